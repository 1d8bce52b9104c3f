"""Audit log files: JSONL (one canonical JSON record per line) for records and checkpoints; CSV for people."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from residency_gate.audit.checkpoint import Checkpoint
from residency_gate.audit.record import canonical_json
from residency_gate.errors import AuditError

logger = logging.getLogger(__name__)

CSV_COLUMNS = (
    "seq",
    "time",
    "kind",
    "decision_id",
    "dataset",
    "source_region",
    "destination_region",
    "sink",
    "purpose",
    "classification",
    "outcome",
    "reasons",
    "redactions",
    "policy_version",
    "policy_hash",
    "actor",
    "subject",
    "detail",
    "prev_hash",
    "hash",
)


def jsonl_line(record: Mapping[str, Any]) -> str:
    """One record as its canonical JSON text (no newline)."""
    return canonical_json(record).decode("utf-8")


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Write records one per line; returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(jsonl_line(record) + "\n")
            count += 1
    return count


def parse_jsonl(text: str, source: str = "<jsonl>") -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AuditError(f"{source}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise AuditError(f"{source}:{number}: each line must be a JSON object")
        records.append(value)
    return records


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path}: cannot read: {exc}") from exc
    return parse_jsonl(text, str(path))


def read_checkpoints(path: Path) -> list[Checkpoint]:
    checkpoints: list[Checkpoint] = []
    for number, data in enumerate(read_jsonl(path), start=1):
        try:
            checkpoints.append(Checkpoint.from_dict(data))
        except AuditError as exc:
            raise AuditError(f"{path}: checkpoint {number}: {exc}") from exc
    return checkpoints


def write_checkpoints(path: Path, checkpoints: Iterable[Checkpoint]) -> int:
    return write_jsonl(path, (checkpoint.to_dict() for checkpoint in checkpoints))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    if isinstance(value, Mapping):
        if "field" in value:
            return f"{value['field']}:{value.get('action', '')}"
        return json.dumps(value, sort_keys=True)
    return str(value)


def records_to_csv(records: Iterable[Mapping[str, Any]]) -> str:
    """Records as CSV with a fixed column set; list cells are joined with '; ', redactions as field:action."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


__all__ = [
    "CSV_COLUMNS",
    "jsonl_line",
    "parse_jsonl",
    "read_checkpoints",
    "read_jsonl",
    "records_to_csv",
    "write_checkpoints",
    "write_jsonl",
]
