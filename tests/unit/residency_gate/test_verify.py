"""Verifying the audit log: an intact log passes; each kind of tampering is caught, first bad record named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from residency_gate.audit import (
    GENESIS_HASH,
    Checkpoint,
    finding_body,
    generate_private_key_pem,
    key_id,
    public_key_pem,
    read_checkpoints,
    read_jsonl,
    records_to_csv,
    seal,
    sign_checkpoint,
    verify_log,
    write_checkpoints,
    write_jsonl,
)
from residency_gate.errors import AuditError, AuditKeyError

T0 = datetime(2026, 12, 1, tzinfo=UTC)
PRIVATE = generate_private_key_pem()
PUBLIC = public_key_pem(PRIVATE)


def _chain(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for seq, body in enumerate(bodies):
        record = seal(body, seq=seq, prev_hash=previous)
        records.append(record)
        previous = record["hash"]
    return records


def _bodies(count: int) -> list[dict[str, Any]]:
    return [
        finding_body("finding", f"topic-{i}", f"detail {i}", time=T0 + timedelta(seconds=i))
        for i in range(count)
    ]


def _log() -> tuple[list[dict[str, Any]], list[Checkpoint]]:
    """Ten records with checkpoints after records 3 and 7, leaving an unverified tail of two."""
    records = _chain(_bodies(10))
    checkpoints = [
        sign_checkpoint(records[:size], PRIVATE, time=T0 + timedelta(minutes=size)) for size in (4, 8)
    ]
    return records, checkpoints


def _unseal(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in ("seq", "prev_hash", "hash")}


def test_intact_log_with_an_unsigned_tail_verifies_only_when_the_tail_is_allowed() -> None:
    records, checkpoints = _log()
    report = verify_log(records, checkpoints, PUBLIC, allow_unsigned_tail=True)
    assert report.ok
    assert (report.records, report.checkpoints, report.unverified_tail) == (10, 2, 2)
    assert report.first_bad_seq is None
    assert report.problem is None


def test_edited_record_is_named_by_its_hash_mismatch() -> None:
    records, checkpoints = _log()
    records[5]["detail"] = "nothing to see"
    report = verify_log(records, checkpoints, PUBLIC)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.problem is not None
    assert "record 5 was altered" in report.problem


def test_deleted_record_is_named_as_missing() -> None:
    records, checkpoints = _log()
    del records[3]
    report = verify_log(records, checkpoints, PUBLIC)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.problem == "record 3 is missing: record 2 is followed by record 4"


def test_deleting_the_first_record_is_caught() -> None:
    records, checkpoints = _log()
    report = verify_log(records[1:], checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 0)


def test_reordered_records_are_named_as_out_of_order() -> None:
    records, checkpoints = _log()
    records[4], records[5] = records[5], records[4]
    report = verify_log(records, checkpoints, PUBLIC)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.problem == "records are out of order: position 4 holds record 5"


def test_renumbered_reordering_breaks_the_prev_hash_link() -> None:
    records, checkpoints = _log()
    swapped = [_unseal(r) for r in records]
    swapped[4], swapped[5] = swapped[5], swapped[4]
    for seq in (4, 5):
        records[seq] = {**swapped[seq], "seq": seq, "prev_hash": records[seq]["prev_hash"], "hash": ""}
        records[seq]["hash"] = seal(swapped[seq], seq=seq, prev_hash=records[seq]["prev_hash"])["hash"]
    report = verify_log(records, checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert report.problem is not None
    assert "does not link" in report.problem


def test_truncated_tail_is_caught_by_the_checkpoint_size() -> None:
    records, checkpoints = _log()
    report = verify_log(records[:6], checkpoints, PUBLIC)
    assert not report.ok
    # records 4 and 5 are chained but no checkpoint proves them: the first record that cannot be trusted
    assert report.first_bad_seq == 4
    assert report.problem is not None
    assert "truncated" in report.problem
    assert "2 records are gone, at or after record 4" in report.problem


def test_fully_recomputed_chain_is_caught_by_the_signed_root() -> None:
    records, checkpoints = _log()
    bodies = [_unseal(r) for r in records]
    bodies[5]["detail"] = "rewritten"
    rewritten = _chain(bodies)
    assert verify_log(rewritten, [], PUBLIC, allow_unsigned_tail=True).ok, "the forged chain is consistent"
    report = verify_log(rewritten, checkpoints, PUBLIC)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.problem is not None
    assert "records 4..7 do not match the checkpoint" in report.problem


def test_rewrite_before_the_first_checkpoint_is_named_from_record_zero() -> None:
    records, checkpoints = _log()
    bodies = [_unseal(r) for r in records]
    bodies[1]["subject"] = "other"
    report = verify_log(_chain(bodies), checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 0)


def test_forged_checkpoint_root_fails_its_signature() -> None:
    records, checkpoints = _log()
    forged = replace(checkpoints[1], root_hash="ab" * 32)
    report = verify_log(records, [checkpoints[0], forged], PUBLIC)
    assert not report.ok
    assert report.first_bad_seq is None
    assert report.problem is not None
    assert "signature that does not verify" in report.problem


def test_checkpoint_signed_by_another_key_is_refused() -> None:
    records, _ = _log()
    other = generate_private_key_pem()
    checkpoint = sign_checkpoint(records[:4], other, time=T0)
    report = verify_log(records, [checkpoint], PUBLIC)
    assert not report.ok
    assert report.problem is not None
    assert f"signed by key {key_id(public_key_pem(other))}" in report.problem


def test_checkpoint_signature_that_is_not_base64_is_refused() -> None:
    records, checkpoints = _log()
    report = verify_log(records, [replace(checkpoints[0], signature="!!")], PUBLIC)
    assert report.problem is not None
    assert "not base64" in report.problem


def test_records_after_the_last_checkpoint_fail_as_an_unsigned_tail_naming_how_many() -> None:
    records, checkpoints = _log()
    report = verify_log(records, checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq, report.unverified_tail) == (False, 8, 2)
    assert report.problem == "2 records (seq 8..9) are not covered by a signed checkpoint"


def test_no_checkpoints_over_a_non_empty_log_is_the_whole_log_unsigned() -> None:
    records, _ = _log()
    report = verify_log(records, [], PUBLIC)
    assert (report.ok, report.first_bad_seq, report.unverified_tail) == (False, 0, 10)
    assert report.problem == "10 records (seq 0..9) are not covered by a signed checkpoint"
    allowed = verify_log(records, [], PUBLIC, allow_unsigned_tail=True)
    assert (allowed.ok, allowed.unverified_tail) == (True, 10)


def test_an_empty_log_without_checkpoints_is_intact() -> None:
    assert verify_log([], [], PUBLIC).ok


def test_a_record_deleted_and_the_rest_renumbered_and_rehashed_names_the_deleted_position() -> None:
    records = _chain(_bodies(10))
    checkpoints = [sign_checkpoint(records[:size], PRIVATE, time=T0) for size in (5, 10)]
    bodies = [_unseal(r) for r in records]
    del bodies[5]
    forged = _chain(bodies)
    report = verify_log(forged, checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert report.problem is not None
    assert "at or after record 5" in report.problem


def test_with_a_checkpoint_per_record_a_renumbered_deletion_is_named_exactly() -> None:
    records = _chain(_bodies(10))
    checkpoints = [sign_checkpoint(records[:size], PRIVATE, time=T0) for size in range(1, 11)]
    bodies = [_unseal(r) for r in records]
    del bodies[3]
    report = verify_log(_chain(bodies), checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_published_checkpoints_catch_a_rewrite_whose_own_checkpoints_were_deleted() -> None:
    records, checkpoints = _log()
    bodies = [_unseal(r) for r in records]
    bodies[6]["detail"] = "rewritten"
    forged = _chain(bodies)
    assert verify_log(forged, [], PUBLIC, allow_unsigned_tail=True).ok, "the forgery is consistent alone"
    report = verify_log(forged, [], PUBLIC, published=checkpoints)
    assert (report.ok, report.first_bad_seq, report.published_checkpoints) == (False, 4, 2)


def test_published_checkpoints_missing_from_the_log_are_named_as_deleted() -> None:
    records, checkpoints = _log()
    report = verify_log(records, checkpoints[:1], PUBLIC, published=checkpoints, allow_unsigned_tail=True)
    assert (report.ok, report.first_bad_seq) == (False, None)
    assert report.problem == (
        "1 published checkpoint (tree_size 8) is missing from the log's own checkpoints: it was deleted"
    )


def test_a_log_matching_its_published_checkpoints_verifies_and_counts_them() -> None:
    records, checkpoints = _log()
    report = verify_log(records[:8], checkpoints, PUBLIC, published=checkpoints)
    assert (report.ok, report.published_checkpoints, report.unverified_tail) == (True, 2, 0)
    assert verify_log(records[:8], checkpoints, PUBLIC).published_checkpoints is None


def test_record_without_seq_is_named_by_position() -> None:
    records, checkpoints = _log()
    del records[2]["seq"]
    report = verify_log(records, checkpoints, PUBLIC)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_exported_jsonl_and_checkpoints_round_trip_and_verify(tmp_path: Path) -> None:
    records, checkpoints = _log()
    write_jsonl(tmp_path / "audit.jsonl", records)
    write_checkpoints(tmp_path / "checkpoints.jsonl", checkpoints)
    assert read_jsonl(tmp_path / "audit.jsonl") == records
    assert read_checkpoints(tmp_path / "checkpoints.jsonl") == checkpoints
    assert verify_log(read_jsonl(tmp_path / "audit.jsonl"), checkpoints, PUBLIC, allow_unsigned_tail=True).ok


def test_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"seq": 0}\nnot json\n', encoding="utf-8")
    with pytest.raises(AuditError, match=r"audit\.jsonl:2: not valid JSON"):
        read_jsonl(path)


def test_checkpoint_from_dict_refuses_unknown_or_missing_keys() -> None:
    _, checkpoints = _log()
    data = checkpoints[0].to_dict()
    with pytest.raises(AuditError, match="exactly the keys"):
        Checkpoint.from_dict({**data, "extra": 1})
    assert Checkpoint.from_dict(data) == checkpoints[0]


def test_a_non_ed25519_or_garbled_key_is_an_audit_key_error() -> None:
    with pytest.raises(AuditKeyError):
        public_key_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(AuditKeyError):
        key_id(b"not a key")


def test_csv_export_has_one_row_per_record_with_fixed_columns() -> None:
    records, _ = _log()
    text = records_to_csv(records[:2])
    lines = text.splitlines()
    assert lines[0].startswith("seq,time,kind,decision_id,dataset")
    assert lines[1].startswith("0,2026-12-01T00:00:00.000000Z,finding,")
    assert len(lines) == 3
