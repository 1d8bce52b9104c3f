"""Reading YAML node trees strictly, so every error names the source, the line and the offending key.

Used for policy files and policy-test case files; it never guesses: unknown keys, duplicate keys and values of
the wrong type are refused with a :class:`~residency_gate.errors.PolicyError`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, NoReturn

import yaml

from residency_gate.errors import PolicyError

logger = logging.getLogger(__name__)

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"

Entries = dict[str, tuple[yaml.Node, yaml.Node]]


def line_of(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def compose(text: str, source: str) -> yaml.Node:
    """Parse ``text`` into a node tree (safe loader); a syntax error names its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise PolicyError(source, line, f"not valid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(source, None, f"not valid YAML: {exc}") from exc
    if node is None:
        raise PolicyError(source, None, "the file is empty")
    return node


def plain(node: yaml.Node) -> Any:
    """The node as plain JSON-compatible data (only called on trees already checked to hold strings)."""
    if isinstance(node, yaml.MappingNode):
        return {key.value: plain(value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(item) for item in node.value]
    if node.tag == NULL_TAG:
        return None
    return node.value


class NodeReader:
    """Typed accessors over YAML nodes that raise ``PolicyError(source, line, problem)``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node | None, problem: str) -> NoReturn:
        raise PolicyError(self.source, line_of(node), problem)

    def mapping(
        self,
        node: yaml.Node,
        where: str,
        *,
        allowed: Collection[str] | None = None,
        required: Collection[str] = (),
    ) -> Entries:
        """The mapping's entries by key; ``allowed=None`` accepts any key (for name → definition maps)."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where} must be a mapping")
        entries: Entries = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:
                self.fail(key_node, f"{where} has a key that is not a string")
            key = key_node.value
            if key in entries:
                self.fail(key_node, f"duplicate key '{key}' in {where}")
            if allowed is not None and key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.fail(key_node, f"unknown key '{key}' in {where} (expected one of: {expected})")
            entries[key] = (key_node, value_node)
        for key in required:
            if key not in entries:
                self.fail(node, f"{where} is missing the required key '{key}'")
        return entries

    def string(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG:
            self.fail(node, f"{where} must be a string (quote it if it looks like a number, date or boolean)")
        value: str = node.value
        if not value.strip():
            self.fail(node, f"{where} must not be empty")
        return value

    def optional_string(self, node: yaml.Node | None, where: str) -> str | None:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG):
            return None
        return self.string(node, where)

    def strings(self, node: yaml.Node, where: str, *, scalar_ok: bool = False) -> list[tuple[str, yaml.Node]]:
        """A non-empty list of strings (or a single string when ``scalar_ok``), each with its node."""
        if scalar_ok and isinstance(node, yaml.ScalarNode):
            return [(self.string(node, where), node)]
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{where} must be a list of strings")
        if not node.value:
            self.fail(node, f"{where} must not be empty")
        items: list[tuple[str, yaml.Node]] = []
        seen: set[str] = set()
        for item in node.value:
            value = self.string(item, f"an item of {where}")
            if value in seen:
                self.fail(item, f"'{value}' is listed twice in {where}")
            seen.add(value)
            items.append((value, item))
        return items

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{where} must be a list")
        items: list[yaml.Node] = node.value
        return items


__all__ = ["Entries", "NodeReader", "compose", "line_of", "plain"]
