"""The outbox's pure parts: which acknowledged rows may leave, backoff, header coding, degradation."""

from __future__ import annotations

from spine.kafka import KafkaClientError
from spine.outbox import OutboxRow, OutboxStats, backoff_delay, decode_headers, encode_headers, settle


def row(row_id: int, key: bytes | None) -> OutboxRow:
    return OutboxRow(row_id, "t", key, b"v", [], 0)


FAIL = KafkaClientError("deliver to t: broker gone", code="_TRANSPORT")


def test_every_acknowledged_row_leaves_when_nothing_failed() -> None:
    rows = [row(1, b"a"), row(2, b"b"), row(3, b"a")]
    assert settle(rows, [None, None, None]) == ([1, 2, 3], None)


def test_a_later_row_of_a_key_that_failed_earlier_stays_so_the_key_keeps_its_order() -> None:
    rows = [row(1, b"a"), row(2, b"b"), row(3, b"a"), row(4, b"b")]
    delivered, failure = settle(rows, [FAIL, None, None, None])
    assert delivered == [2, 4]
    assert failure is FAIL


def test_rows_without_a_key_are_ordered_among_themselves() -> None:
    rows = [row(1, None), row(2, b"x"), row(3, None)]
    assert settle(rows, [FAIL, None, None]) == ([2], FAIL)


def test_backoff_doubles_from_a_floor_up_to_the_ceiling() -> None:
    delays = []
    delay = 0.0
    for _ in range(8):
        delay = backoff_delay(delay, ceiling=5.0)
        delays.append(delay)
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_headers_survive_a_round_trip_through_the_table() -> None:
    headers = [("spine.producer", b"residency-gate"), ("trace", b"\x00\xff"), ("empty", None)]
    assert decode_headers(encode_headers(headers)) == headers
    assert encode_headers([]) is None
    assert decode_headers(None) == []


def test_stats_are_degraded_only_when_the_oldest_row_is_older_than_the_threshold() -> None:
    empty = OutboxStats(pending=0, oldest_created_ms=None)
    assert empty.oldest_age_s(now_ms=10_000) == 0.0
    assert not empty.degraded(30.0, now_ms=10_000)
    aged = OutboxStats(pending=3, oldest_created_ms=1_000)
    assert aged.oldest_age_s(now_ms=41_000) == 40.0
    assert aged.degraded(30.0, now_ms=41_000)
    assert not aged.degraded(60.0, now_ms=41_000)
