"""Loading YAML with the line of every value, so each OML problem can name its path and line.

The document is parsed with PyYAML's composer (safe loader); the node tree becomes plain data and a map from
each value's path (``("steps", 2, "config", "topic")``) to its 1-based line. Duplicate keys are problems,
not silently overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from oml.errors import Issue, OmlCode

Path = tuple[str | int, ...]
# libyaml's composer when PyYAML was built with it (about 10x faster, same nodes and marks).
COMPOSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def render_path(path: Sequence[str | int]) -> str:
    """``("steps", 2, "config", "topic")`` -> ``steps[2].config.topic``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += part if not out else f".{part}"
    return out


@dataclass
class Document:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def issue(self, code: OmlCode, path: Sequence[str | int], message: str) -> Issue:
        return Issue(code, render_path(path), self.line(path), message)


def load_document(text: str) -> tuple[Document | None, list[Issue]]:
    """Parse ``text``; on a syntax error return no document and the one issue naming its line."""
    try:
        node = yaml.compose(text, Loader=COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        return None, [Issue(OmlCode.YAML_SYNTAX, "", line, f"not valid YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, [Issue(OmlCode.YAML_SYNTAX, "", None, f"not valid YAML: {exc}")]
    if node is None:
        return None, [Issue(OmlCode.NOT_A_MAPPING, "", None, "the document is empty")]
    doc = Document(None)
    issues: list[Issue] = []
    constructor = yaml.SafeLoader("")
    doc.data = _plain(node, (), doc, issues, constructor)
    return doc, issues


def _plain(node: yaml.Node, path: Path, doc: Document, issues: list[Issue], loader: yaml.SafeLoader) -> Any:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                line = key_node.start_mark.line + 1
                where = render_path((*path, key))
                issues.append(Issue(OmlCode.DUPLICATE_KEY, where, line, f"key {key!r} appears twice"))
                continue
            out[key] = _plain(value_node, (*path, key), doc, issues, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), doc, issues, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


__all__ = ["Document", "Path", "load_document", "render_path"]
