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
    return any(other == tag or other.startswith(f"{tag}.") for other in tags)


def weakened_tags(before: Iterable[str], after: Iterable[str]) -> tuple[str, ...]:
    """Tags of ``before`` that ``after`` carries neither as such nor through a narrower tag."""
    kept = tuple(after)
    return tuple(dict.fromkeys(tag for tag in before if not _covers(tag, kept)))


def declassifications(old: ParsedSchema, new: ParsedSchema) -> list[Declassification]:
    """Every tagged field of ``old`` whose successor in ``new`` carries weaker tags, in ``old``'s order."""
    same_type = old.schema_type == new.schema_type
    old_keys = old.field_keys() if same_type else {}
    successors: dict[str, list[str]] = {}
    for path, keys in new.field_keys().items():
        for key in keys if same_type else (path,):
            successors.setdefault(key, []).append(path)
    new_tags = {f.path: f.tags for f in new.tagged_fields()}
    found: list[Declassification] = []
    for tagged in old.tagged_fields():
        key = old_keys.get(tagged.path, (tagged.path,))[0]
        for now in successors.get(key, ()):
            removed = weakened_tags(tagged.tags, new_tags.get(now, ()))
            if removed:
                found.append(Declassification(tagged.path, removed, now))
    return found


__all__ = ["Declassification", "declassifications", "weakened_tags"]
