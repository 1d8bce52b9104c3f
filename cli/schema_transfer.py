"""Copy subjects, versions and ids between Confluent-compatible registries: read a registry or a JSON dump,
write a dump or import into the spine's registry in IMPORT mode (ids and versions kept, re-runs idempotent).

Only the Confluent v1 API is used on both sides, so the source may be Confluent's registry, Karapace or the
spine. Live versions are copied; soft-deleted ones are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cli.service import ServiceClient, ServiceRefusedError
from spine.errors import ConfigError, SpineError

DUMP_FORMAT = "spine-schema-dump/1"
_COPIED_FIELDS = ("schemaType", "references", "metadata", "ruleSet")


@dataclass(frozen=True, slots=True)
class Entry:
    """One subject version as the Confluent API answers it."""

    subject: str
    version: int
    id: int
    body: dict[str, Any]

    @property
    def references(self) -> list[tuple[str, int]]:
        return [(str(r["subject"]), int(r["version"])) for r in self.body.get("references") or []]

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "version": self.version, "id": self.id, **self.body}


@dataclass
class ImportCount:
    copied: int = 0
    present: int = 0


def _path(subject: str) -> str:
    return quote(subject, safe="")


def _entry(item: dict[str, Any], where: str) -> Entry:
    for key, kind in (("subject", str), ("version", int), ("id", int), ("schema", str)):
        if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool):
            raise ConfigError(f"{where}: field {key!r} is missing or not a {kind.__name__}")
    body = {"schema": item["schema"]}
    body.update({k: item[k] for k in _COPIED_FIELDS if item.get(k) not in (None, [], {})})
    return Entry(item["subject"], item["version"], item["id"], body)


def read_registry(source: ServiceClient) -> list[Entry]:
    """Every live version of every subject of ``source``, by subject then version."""
    entries: list[Entry] = []
    for subject in sorted(source.request("GET", "/subjects")):
        for version in source.request("GET", f"/subjects/{_path(subject)}/versions"):
            item = source.request("GET", f"/subjects/{_path(subject)}/versions/{int(version)}")
            entries.append(_entry(item, f"{source.url} subject {subject!r} version {version}"))
    return entries


def write_dump(entries: Iterable[Entry], path: Path) -> None:
    document = {"format": DUMP_FORMAT, "versions": [e.as_dict() for e in entries]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def read_dump(path: Path) -> list[Entry]:
    """The versions of a dump :func:`write_dump` wrote; ConfigError names the file and field at fault."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a JSON document: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != DUMP_FORMAT:
        raise ConfigError(f"{path}: field 'format': expected {DUMP_FORMAT!r}")
    versions = document.get("versions")
    if not isinstance(versions, list):
        raise ConfigError(f"{path}: field 'versions': expected a list")
    return [
        _entry(item if isinstance(item, dict) else {}, f"{path}: versions[{n}]")
        for n, item in enumerate(versions)
    ]


def import_order(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` by id, each after the subject versions it references (when the dump holds them)."""
    pending = sorted(entries, key=lambda e: (e.id, e.subject, e.version))
    held = {(e.subject, e.version) for e in pending}
    done: set[tuple[str, int]] = set()
    ordered: list[Entry] = []
    while pending:
        ready = [e for e in pending if all(r in done or r not in held for r in e.references)]
        if not ready:  # a reference cycle cannot be registered in any order: let the target refuse it
            ready = pending[:1]
        for entry in ready:
            ordered.append(entry)
            done.add((entry.subject, entry.version))
        pending = [e for e in pending if (e.subject, e.version) not in done]
    return ordered


def _present(target: ServiceClient, entry: Entry) -> bool:
    try:
        found = target.request("GET", f"/subjects/{_path(entry.subject)}/versions/{entry.version}")
    except ServiceRefusedError as exc:
        if exc.status == 404:
            return False
        raise
    if found.get("id") != entry.id:
        raise SpineError(
            f"subject {entry.subject!r} version {entry.version} already holds id {found.get('id')} "
            f"in the target, not {entry.id}"
        )
    return True


def _own_mode(target: ServiceClient, subject: str) -> str | None:
    try:
        mode: str = target.request("GET", f"/mode/{_path(subject)}")["mode"]
    except ServiceRefusedError as exc:
        if exc.status == 404:
            return None
        raise
    return mode


def import_entries(
    target: ServiceClient, entries: Iterable[Entry], advance: Callable[[Entry], None] = lambda e: None
) -> ImportCount:
    """Register each entry with its id and version, its subject in IMPORT mode meanwhile (then back to the
    mode it had); a version already there with the same id is left alone."""
    count = ImportCount()
    restore: dict[str, str | None] = {}
    try:
        for entry in import_order(entries):
            if _present(target, entry):
                count.present += 1
            else:
                if entry.subject not in restore:
                    restore[entry.subject] = _own_mode(target, entry.subject)
                    target.request("PUT", f"/mode/{_path(entry.subject)}?force=true", json={"mode": "IMPORT"})
                body = {**entry.body, "id": entry.id, "version": entry.version}
                try:
                    target.request("POST", f"/subjects/{_path(entry.subject)}/versions", json=body)
                except ServiceRefusedError as exc:
                    where = f"subject {entry.subject!r} version {entry.version} (id {entry.id})"
                    message = f"{where}: {exc.body.get('message', '')}"
                    raise ServiceRefusedError(
                        "registry", exc.status, {**exc.body, "message": message}, exc.exit_code
                    ) from exc
                count.copied += 1
            advance(entry)
    finally:
        for subject, mode in restore.items():
            if mode is None:
                target.request("DELETE", f"/mode/{_path(subject)}")
            else:
                target.request("PUT", f"/mode/{_path(subject)}", json={"mode": mode})
    return count


__all__ = [
    "DUMP_FORMAT",
    "Entry",
    "ImportCount",
    "import_entries",
    "import_order",
    "read_dump",
    "read_registry",
    "write_dump",
]
