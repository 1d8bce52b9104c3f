"""Declassification: a field of an earlier version that loses a classification tag in the next one.

A tag is kept when the new field carries it or a narrower tag under it (``PII`` → ``PII.email``); it is
lost when removed or replaced by an ancestor (``PII.email`` → ``PII``). Fields are followed across
versions the way readers resolve them (Avro aliases, Protobuf field numbers), so renaming a field cannot
launder its tags. A field removed altogether is a schema change, not a declassification: no reader gets its
data under another name. Pure functions; who may declassify and the audit record belong to the service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from registry.schemas.model import ParsedSchema
from spine.classification import within

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Declassification:
    """``field`` (its path in the earlier version) loses ``removed``; ``now`` is its path in the new one."""

    field: str
    removed: tuple[str, ...]
    now: str

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "removed_tags": list(self.removed), "now": self.now}

    def __str__(self) -> str:
        noun = "tag" if len(self.removed) == 1 else "tags"
        renamed = f" (renamed to {self.now!r})" if self.now != self.field else ""
        return f"field {self.field!r} loses {noun} {', '.join(self.removed)}{renamed}"


def _covers(tag: str, tags: Iterable[str]) -> bool:
    return any(within(other, tag) for other in tags)


def weakened_tags(before: Iterable[str], after: Iterable[str]) -> tuple[str, ...]:
    """Tags of ``before`` that ``after`` carries neither as such nor through a narrower tag."""
    kept = tuple(after)
    return tuple(dict.fromkeys(tag for tag in before if not _covers(tag, kept)))


@dataclass(frozen=True, slots=True)
class FieldClass:
    """A field's classification as the registry remembers it beyond its versions: the schema type, the key
    readers resolve the field by (its own path for Avro and JSON Schema, its number path for Protobuf),
    its path, and its tags."""

    schema_type: str
    key: str
    path: str
    tags: tuple[str, ...]


def field_classes(schema: ParsedSchema, *, untagged: bool = False) -> list[FieldClass]:
    """The tagged fields of ``schema`` in schema order, followed (``untagged``) by every other field."""
    kind = schema.schema_type.value
    keys = schema.field_keys()
    tagged = {f.path: f.tags for f in schema.tagged_fields()}
    classes = [FieldClass(kind, keys.get(path, (path,))[0], path, tags) for path, tags in tagged.items()]
    if untagged:
        classes.extend(FieldClass(kind, k[0], path, ()) for path, k in keys.items() if path not in tagged)
    return classes


def lost_tags(before: Iterable[FieldClass], new: ParsedSchema) -> list[Declassification]:
    """Every field of ``before`` whose successor in ``new`` carries weaker tags, in ``before``'s order.

    A field of ``new``'s schema type succeeds one whose key it answers to; across types only the same path
    does (keys of different types do not compare)."""
    kind = new.schema_type.value
    paths = new.field_keys()
    by_key: dict[str, list[str]] = {}
    for path, keys in paths.items():
        for key in keys:
            by_key.setdefault(key, []).append(path)
    new_tags = {f.path: f.tags for f in new.tagged_fields()}
    found: list[Declassification] = []
    for field in before:
        if field.schema_type == kind:
            successors = by_key.get(field.key, [])
        else:
            successors = [field.path] if field.path in paths else []
        for now in successors:
            removed = weakened_tags(field.tags, new_tags.get(now, ()))
            if removed:
                found.append(Declassification(field.path, removed, now))
    return found


def declassifications(old: ParsedSchema, new: ParsedSchema) -> list[Declassification]:
    """Every tagged field of ``old`` whose successor in ``new`` carries weaker tags, in ``old``'s order."""
    return lost_tags(field_classes(old), new)


__all__ = [
    "Declassification",
    "FieldClass",
    "declassifications",
    "field_classes",
    "lost_tags",
    "weakened_tags",
]
