"""The independent verifier in docs/audit-log-format.md agrees with the gate on intact and tampered logs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from residency_gate.audit import (
    GENESIS_HASH,
    finding_body,
    generate_private_key_pem,
    public_key_pem,
    seal,
    sign_checkpoint,
    verify_log,
    write_checkpoints,
    write_jsonl,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "audit-log-format.md"
T0 = datetime(2026, 12, 1, tzinfo=UTC)
KEY = generate_private_key_pem()

Records = list[dict[str, Any]]


def _script() -> str:
    match = re.search(
        r"<!-- independent-verifier -->\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S
    )
    assert match is not None, "the verifier block is missing from the document"
    return match.group(1)


def _chain(bodies: list[dict[str, Any]]) -> Records:
    records: Records = []
    previous = GENESIS_HASH
    for seq, body in enumerate(bodies):
        records.append(seal(body, seq=seq, prev_hash=previous))
        previous = records[-1]["hash"]
    return records


def _bodies() -> list[dict[str, Any]]:
    return [
        finding_body("finding", f"topic-é-{i}", f'line\n"{i}"', time=T0 + timedelta(seconds=i))
        for i in range(9)
    ]


def _edit(records: Records) -> Records:
    records[2]["detail"] = "edited"
    return records


def _delete(records: Records) -> Records:
    return records[:3] + records[4:]


def _reorder(records: Records) -> Records:
    records[1], records[2] = records[2], records[1]
    return records


def _truncate(records: Records) -> Records:
    return records[:5]


def _delete_and_renumber(records: Records) -> Records:
    bodies = [{k: v for k, v in r.items() if k not in ("seq", "prev_hash", "hash")} for r in records]
    del bodies[5]
    return _chain(bodies)


def _recompute(records: Records) -> Records:
    bodies = [{k: v for k, v in r.items() if k not in ("seq", "prev_hash", "hash")} for r in records]
    bodies[2]["detail"] = "rewritten"
    return _chain(bodies)


def _run(
    tmp_path: Path,
    records: Records,
    *options: str,
    forge_signature: bool = False,
    sizes: tuple[int, ...] = (4, 7, 9),
) -> subprocess.CompletedProcess[str]:
    """Run the document's verifier on ``records`` with checkpoints of the original log at ``sizes``."""
    original = _chain(_bodies())
    checkpoints = [sign_checkpoint(original[:size], KEY, time=T0) for size in sizes]
    if forge_signature:
        checkpoints[0] = sign_checkpoint(original[:4], generate_private_key_pem(), time=T0)
    (tmp_path / "verify_audit.py").write_text(_script(), encoding="utf-8")
    (tmp_path / "audit.public-key.pem").write_bytes(public_key_pem(KEY))
    write_jsonl(tmp_path / "audit.jsonl", records)
    write_checkpoints(tmp_path / "audit.checkpoints.jsonl", checkpoints)
    allow = "--allow-unsigned-tail" in options
    gate_says = verify_log(records, checkpoints, public_key_pem(KEY), allow_unsigned_tail=allow).ok
    files = ["audit.jsonl", "audit.checkpoints.jsonl", "audit.public-key.pem"]
    result = subprocess.run(
        [sys.executable, "verify_audit.py", *files, *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode == 0) is gate_says, "the documented verifier and the gate disagree"
    return result


def test_documented_verifier_accepts_an_intact_log(tmp_path: Path) -> None:
    result = _run(tmp_path, _chain(_bodies()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OK: 9 records, 3 checkpoints, 0 unsigned"


def test_documented_verifier_fails_an_unsigned_tail_unless_allowed(tmp_path: Path) -> None:
    result = _run(tmp_path, _chain(_bodies()), sizes=(4, 7))
    assert result.returncode == 1
    assert "2 records (seq 7..8) are not covered by a signed checkpoint" in result.stdout
    allowed = _run(tmp_path, _chain(_bodies()), "--allow-unsigned-tail", sizes=(4, 7))
    assert allowed.returncode == 0, allowed.stdout
    assert allowed.stdout.strip() == "OK: 9 records, 2 checkpoints, 2 unsigned"


def test_documented_verifier_fails_a_log_with_no_checkpoints(tmp_path: Path) -> None:
    result = _run(tmp_path, _chain(_bodies()), sizes=())
    assert result.returncode == 1
    assert "9 records (seq 0..8) are not covered" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_edit, "record 2: hash does not match"),
        (_delete, "position 3 holds seq 4"),
        (_reorder, "position 1 holds seq 2"),
        (_truncate, "log truncated"),
        (_recompute, "do not match the signed root"),
        (_delete_and_renumber, "records 0..6 do not match the signed root"),
    ],
)
def test_documented_verifier_rejects_tampered_logs(
    tmp_path: Path, tamper: Callable[[Records], Records], message: str
) -> None:
    result = _run(tmp_path, tamper(_chain(_bodies())))
    assert result.returncode == 1
    assert message in result.stdout


def test_documented_verifier_rejects_a_checkpoint_signed_by_another_key(tmp_path: Path) -> None:
    result = _run(tmp_path, _chain(_bodies()), forge_signature=True)
    assert result.returncode == 1
    assert "was signed by key" in result.stdout
