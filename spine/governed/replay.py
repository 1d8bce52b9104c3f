"""The one replay routine of a governed topic's dead letters: re-validate each, re-send it, never twice.

A dead letter of the producer's ``validate`` stage holds the record as JSON and is encoded again; any other
holds the original wire-format value, which is decoded through the registry before it is sent on
unchanged. Each DLQ offset is claimed in the :class:`ReplayLedger` before it is sent, so no record is sent
twice, even when two replays run at once or one is interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import Message

from spine.governed.codec import Decoder, Encoder
from spine.governed.dlq import ReplayLedger
from spine.governed.errors import RecordInvalidError, UndecodableRecordError
from spine.headers import DlqHeaders, without_dlq_headers
from spine.kafka import Producer, read_topic
from spine.registry_client import RegistryClient
from spine.settings import KafkaSettings
from spine.topics import dlq_topic


@dataclass
class ReplayResult:
    sent: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    still_invalid: list[tuple[int, str]] = field(default_factory=list)


def dead_letters(kafka: KafkaSettings, topic: str) -> list[Message]:
    return read_topic(kafka, dlq_topic(topic), client_id="spine-dlq-reader")


class StillInvalidError(Exception):
    """A dead letter that would fail again; it stays in the DLQ, unclaimed."""


Prepare = Callable[[Message], Callable[[], None]]


def replay_dead_letters(
    kafka: KafkaSettings, topic: str, ledger: ReplayLedger, prepare: Prepare
) -> ReplayResult:
    """The one replay loop: each not yet replayed dead letter of ``topic`` is checked by ``prepare`` (which
    raises :class:`StillInvalidError` when it would fail again, else returns the step that lands it), claimed
    in the ledger, then landed; a landing that fails releases its claim so a later replay tries again."""
    source = dlq_topic(topic)
    result = ReplayResult()
    done = ledger.replayed(source)
    for msg in dead_letters(kafka, topic):
        partition, offset = msg.partition() or 0, msg.offset() or 0
        if (partition, offset) in done:
            result.already.append(offset)
            continue
        try:
            land = prepare(msg)
        except StillInvalidError as exc:
            result.still_invalid.append((offset, str(exc)))
            continue
        if not ledger.claim(source, partition, offset):
            result.already.append(offset)
            continue
        try:
            land()
        except Exception:
            ledger.release(source, partition, offset)
            raise
        result.sent.append(offset)
    return result


def replay(
    kafka: KafkaSettings, registry: RegistryClient, topic: str, version_subject: str, ledger: ReplayLedger
) -> ReplayResult:
    """Send every not yet replayed dead letter of ``topic`` back to it, if it now passes validation."""
    encoder: Encoder | None = None
    decoder = Decoder(registry, version_subject)
    with Producer(kafka, client_id="spine-dlq-replay") as producer:

        def prepare(msg: Message) -> Callable[[], None]:
            nonlocal encoder
            headers = DlqHeaders.from_kafka(msg.headers())
            raw = msg.value()
            try:
                if headers is not None and headers.stage == "validate":
                    if encoder is None:
                        encoder = Encoder(registry, registry.latest(version_subject))
                    value = encoder.encode(json.loads(raw or b"null"), topic)
                else:
                    decoder.decode(raw, topic)
                    value = raw or b""
            except (RecordInvalidError, UndecodableRecordError, ValueError) as exc:
                raise StillInvalidError(str(exc)) from exc

            def land() -> None:
                producer.send(topic, value, msg.key(), headers=without_dlq_headers(msg.headers())).result(30)

            return land

        return replay_dead_letters(kafka, topic, ledger, prepare)


__all__ = ["Prepare", "ReplayResult", "StillInvalidError", "dead_letters", "replay", "replay_dead_letters"]
