"""Apply a residency decision's redactions to a record: the gate decides, this one function applies.

A redaction names a field by its dotted path (``customer.email``) and an action: ``drop`` removes the field,
``mask`` replaces its value. A path through a list applies to every element. Missing fields are left alone.
The record passed in is never changed; only the containers along a redacted path are copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

MASK = "****"


class RedactionLike(Protocol):
    @property
    def field(self) -> str: ...

    @property
    def action(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FieldRedaction:
    field: str
    action: str


class Redactor:
    """A decision's redactions compiled once (paths split, actions checked), applied to many records."""

    __slots__ = ("_plan",)

    def __init__(self, redactions: Iterable[RedactionLike]) -> None:
        plan: list[tuple[tuple[str, ...], str]] = []
        for item in redactions:
            if item.action not in {"drop", "mask"}:
                raise ValueError(f"redaction of {item.field}: unknown action {item.action!r}")
            plan.append((tuple(item.field.split(".")), item.action))
        self._plan = tuple(plan)

    def __bool__(self) -> bool:
        return bool(self._plan)

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for path, action in self._plan:
            _apply(out, path, action)
        return out


def redact(record: Mapping[str, Any], redactions: Iterable[RedactionLike]) -> dict[str, Any]:
    """``record`` with every redaction of a decision applied (a new dict; nested paths ``a.b``)."""
    return Redactor(redactions)(record)


def _apply(container: dict[str, Any], path: Sequence[str], action: str) -> None:
    head = path[0]
    if head not in container:
        return
    if len(path) == 1:
        if action == "drop":
            del container[head]
        else:
            container[head] = _masked(container[head])
        return
    child = container[head]
    if isinstance(child, Mapping):
        copied = dict(child)
        _apply(copied, path[1:], action)
        container[head] = copied
    elif isinstance(child, list):
        items: list[Any] = []
        for element in child:
            if isinstance(element, Mapping):
                element = dict(element)
                _apply(element, path[1:], action)
            items.append(element)
        container[head] = items


def _masked(value: Any) -> Any:
    """Strings keep no character; anything else becomes None (a typed mask would leak its magnitude)."""
    if isinstance(value, str):
        return MASK
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return None


__all__ = ["MASK", "FieldRedaction", "RedactionLike", "Redactor", "redact"]
