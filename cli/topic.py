"""``spine topic``: governed topics: create, list, describe, produce, consume, and their dead letters.

URLs come from the running spine (``SPINE_REGISTRY_URL``, ``SPINE_RESIDENCY_URL``, ``SPINE_KAFKA_BOOTSTRAP``,
else what ``spine up`` recorded); the token from ``--token``, ``SPINE_TOKEN`` or the ``spine up`` admin token.
The governed clients are imported inside the commands, so a base install still loads the CLI.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli.common import console, fail, handle_errors, needs_extra, print_json, print_table
from cli.service import default_bootstrap, default_token, default_url
from spine.errors import ExitCode
from spine.settings import KafkaSettings, SpineSettings, load_settings

if TYPE_CHECKING:
    from residency_gate.client import GateClient
    from spine.registry_client import RegistryClient

app = typer.Typer(
    help="Governed topics: create, list, describe, produce, consume, dead letters.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Dead letters of a governed topic: list, show, replay.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

TOKEN_HELP = "Bearer token (default SPINE_TOKEN, else $SPINE_HOME/auth/admin.token)."  # noqa: S105
JSON_HELP = "Print JSON instead of a table."


@dataclass
class Clients:
    kafka: KafkaSettings
    registry: RegistryClient
    gate: GateClient
    home: Path

    def close(self) -> None:
        self.registry.close()
        self.gate.close()


def clients(token: str | None) -> Clients:
    from residency_gate.client import GateClient
    from spine.registry_client import RegistryClient

    secret = token or default_token()
    registry = RegistryClient(default_url("registry", "SPINE_REGISTRY_URL"), secret)
    gate = GateClient(default_url("residency-gate", "SPINE_RESIDENCY_URL"), secret)
    return Clients(
        KafkaSettings(bootstrap=default_bootstrap()), registry, gate, load_settings(SpineSettings).home
    )


def policy_of(c: Clients) -> dict[str, Any]:
    from spine.errors import UnavailableError

    policy = c.gate.policy()
    if policy is None:
        raise UnavailableError(f"residency gate unreachable at {c.gate.url}")
    return policy


@app.command("create")
@handle_errors
@needs_extra("governed", "topic create")
def create(
    subject: str = typer.Argument(..., help="Registered subject, e.g. sales.orders-value."),
    partitions: int = typer.Option(3, "--partitions", min=1, help="Partitions of the governed topic."),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create the governed topic of SUBJECT's latest major and its .dlq (exit 1 if not governed)."""
    from spine.governed import NotGovernedError, governed_topic_specs
    from spine.governed.topics import find_dataset
    from spine.kafka import Admin
    from spine.registry_client import SUBJECT_NOT_FOUND, RegistryClientError

    c = clients(token)
    try:
        dataset = find_dataset(policy_of(c), subject)
        try:
            version = c.registry.latest(subject)
        except RegistryClientError as exc:
            if exc.error_code == SUBJECT_NOT_FOUND:
                raise NotGovernedError(f"subject {subject} is not registered") from exc
            raise
        specs = governed_topic_specs(version.topic, partitions)
        Admin(c.kafka).create_topics(specs)
    finally:
        c.close()
    created = [{"topic": s.name, "partitions": s.partitions, "config": dict(s.config)} for s in specs]
    if as_json:
        print_json({"subject": subject, "dataset": dataset.name, "topics": created})
        return
    for item in created:
        console.print(f"created {item['topic']} ({item['partitions']} partitions) for {subject}")


def _governed_rows(c: Clients) -> list[dict[str, Any]]:
    from spine.governed.errors import NotGovernedError
    from spine.governed.replay import dead_letters
    from spine.governed.topics import find_dataset
    from spine.kafka import Admin

    policy = policy_of(c)
    existing = Admin(c.kafka).list_topics()
    rows: list[dict[str, Any]] = []
    for subject in sorted(c.registry.subjects()):
        try:
            dataset = find_dataset(policy, subject)
        except NotGovernedError:
            continue
        latest_of_major: dict[int, Any] = {}
        for version in c.registry.versions(subject):
            latest_of_major[version.major] = version
        for major, version in sorted(latest_of_major.items()):
            rows.append(
                {
                    "topic": version.topic,
                    "subject": subject,
                    "major": major,
                    "latest_version": version.version,
                    "semver": version.semver,
                    "classification": dataset.classification,
                    "dataset": dataset.name,
                    "exists": version.topic in existing,
                    "dlq_depth": len(dead_letters(c.kafka, version.topic))
                    if version.topic in existing
                    else 0,
                }
            )
    return rows


@app.command("list")
@handle_errors
@needs_extra("governed", "topic list")
def list_topics(
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Governed topics (every major of every governed subject) with version, classification, DLQ depth."""
    c = clients(token)
    try:
        rows = _governed_rows(c)
    finally:
        c.close()
    if as_json:
        print_json(rows)
        return
    columns = ("topic", "subject", "latest_version", "semver", "classification", "exists", "dlq_depth")
    print_table("governed topics", columns, [[r[k] for k in columns] for r in rows])


@app.command("describe")
@handle_errors
@needs_extra("governed", "topic describe")
def describe(
    topic: str = typer.Argument(...),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One governed topic: subject, versions of its major, classification, partitions, configs, DLQ depth."""
    from spine.governed.errors import NotGovernedError
    from spine.kafka import Admin

    c = clients(token)
    try:
        row = next((r for r in _governed_rows(c) if r["topic"] == topic), None)
        if row is None:
            raise NotGovernedError(f"{topic} is not a governed topic")
        description = Admin(c.kafka).describe_topic(topic) if row["exists"] else None
    finally:
        c.close()
    if description is not None:
        row = {**row, "partitions": description.partitions, "config": description.config}
    if as_json:
        print_json(row)
        return
    print_table(topic, ("key", "value"), [(k, v) for k, v in row.items()])


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        fail(f"{path}: {exc.strerror}", ExitCode.USAGE)
    out: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            fail(f"{path}:{number}: not JSON: {exc}", ExitCode.USAGE)
        if not isinstance(value, dict):
            fail(f"{path}:{number}: a record must be a JSON object", ExitCode.USAGE)
        out.append((number, value))
    return out


@app.command("produce")
@handle_errors
@needs_extra("governed", "topic produce")
def produce(
    topic: str = typer.Argument(...),
    file: Path = typer.Argument(..., help="One JSON record per line."),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate every line against the topic's schema, then send them all; exit 1 at the first bad line."""
    from spine.governed import GovernedProducer, RecordInvalidError
    from spine.governed.topics import subject_for_topic

    records = _read_jsonl(file)
    c = clients(token)
    try:
        with GovernedProducer(
            subject_for_topic(topic),
            kafka=c.kafka,
            registry=c.registry,
            gate=c.gate,
            name="spine-cli",
            home=c.home,
        ) as producer:
            if producer.topic != topic:
                fail(f"{topic}: the subject's latest major writes {producer.topic}", ExitCode.USAGE)
            for number, record in records:
                try:
                    producer.encoder.encode(record, topic)
                except RecordInvalidError as exc:
                    fail(f"{file}:{number}: {exc}", ExitCode.REFUSED)
            for _, record in records:
                producer.send(record)
    finally:
        c.close()
    if as_json:
        print_json({"topic": topic, "sent": len(records)})
    else:
        console.print(f"{len(records)} records sent to {topic}")


@app.command("consume")
@handle_errors
@needs_extra("governed", "topic consume")
def consume(
    topic: str = typer.Argument(...),
    region: str = typer.Option(..., "--region", help="The region the records are read in."),
    sink: str = typer.Option(..., "--sink", help="The sink they go to (a sink of the matrix)."),
    purpose: str | None = typer.Option(None, "--purpose"),
    count: int | None = typer.Option(None, "-n", "--count", min=1, help="Stop after N records."),
    group: str | None = typer.Option(
        None, "--group", help="Consumer group (default a new one: from the start)."
    ),
    idle: float = typer.Option(5.0, "--idle", help="Stop after this many seconds without a record."),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
) -> None:
    """Print the topic's records, decoded and redacted as the gate decides, one JSON object a line."""
    from spine.governed import GovernedConsumer, GovernedRecord
    from spine.governed.topics import find_dataset, subject_for_topic, topic_major

    c = clients(token)
    try:
        dataset = find_dataset(policy_of(c), subject_for_topic(topic))

        def show(record: GovernedRecord) -> None:
            sys.stdout.write(json.dumps(record.value, default=str) + "\n")

        with GovernedConsumer(
            dataset.name,
            group or f"spine-cli-{uuid.uuid4().hex[:12]}",
            region=region,
            sink=sink,
            purpose=purpose,
            kafka=c.kafka,
            registry=c.registry,
            gate=c.gate,
            major=topic_major(topic),
            home=c.home,
        ) as consumer:
            consumer.run(show, max_records=count, idle_timeout_s=idle)
    finally:
        c.close()


def _dlq_rows(c: Clients, topic: str) -> list[dict[str, Any]]:
    from spine.governed.dlq import ReplayLedger
    from spine.governed.replay import dead_letters
    from spine.headers import DlqHeaders
    from spine.topics import dlq_topic

    ledger = ReplayLedger(c.home)
    try:
        replayed = ledger.replayed(dlq_topic(topic))
    finally:
        ledger.close()
    rows: list[dict[str, Any]] = []
    for msg in dead_letters(c.kafka, topic):
        headers = DlqHeaders.from_kafka(msg.headers())
        value = msg.value() or b""
        try:
            shown: Any = value.decode("utf-8")
        except UnicodeDecodeError:
            shown = "base64:" + base64.b64encode(value).decode()
        rows.append(
            {
                "offset": msg.offset(),
                "partition": msg.partition(),
                "stage": headers.stage if headers else None,
                "error_code": headers.error_code if headers else None,
                "reason": headers.reason if headers else None,
                "origin": headers.origin if headers else None,
                "attempts": headers.attempts if headers else None,
                "first_failure_ms": headers.first_failure_ms if headers else None,
                "last_failure_ms": headers.last_failure_ms if headers else None,
                "replayed": (msg.partition() or 0, msg.offset() or 0) in replayed,
                "value": shown,
            }
        )
    return rows


@dlq_app.command("list")
@handle_errors
@needs_extra("governed", "topic dlq list")
def dlq_list(
    topic: str = typer.Argument(...),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Dead letters of TOPIC: offset, stage, error code, reason, attempts, replayed."""
    c = clients(token)
    try:
        rows = _dlq_rows(c, topic)
    finally:
        c.close()
    if as_json:
        print_json([{k: v for k, v in r.items() if k != "value"} for r in rows])
        return
    columns = ("offset", "stage", "error_code", "attempts", "replayed", "reason")
    print_table(f"{topic}.dlq", columns, [[r[k] for k in columns] for r in rows])


@dlq_app.command("show")
@handle_errors
@needs_extra("governed", "topic dlq show")
def dlq_show(
    topic: str = typer.Argument(...),
    offset: int | None = typer.Option(None, "--offset", help="Only this DLQ offset."),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
) -> None:
    """Every dead letter of TOPIC (or one) with its headers and value, as JSON."""
    c = clients(token)
    try:
        rows = [r for r in _dlq_rows(c, topic) if offset is None or r["offset"] == offset]
    finally:
        c.close()
    if offset is not None and not rows:
        fail(f"{topic}.dlq has no record at offset {offset}", ExitCode.USAGE)
    print_json(rows)


@dlq_app.command("replay")
@handle_errors
@needs_extra("governed", "topic dlq replay")
def dlq_replay(
    topic: str = typer.Argument(...),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Re-validate and re-send TOPIC's dead letters, each at most once; exit 1 if some are still invalid."""
    from spine.governed.dlq import ReplayLedger
    from spine.governed.replay import replay
    from spine.governed.topics import subject_for_topic

    c = clients(token)
    ledger = ReplayLedger(c.home)
    try:
        result = replay(c.kafka, c.registry, topic, subject_for_topic(topic), ledger)
    finally:
        ledger.close()
        c.close()
    if as_json:
        print_json(
            {
                "sent": result.sent,
                "already_replayed": result.already,
                "still_invalid": [{"offset": o, "reason": r} for o, r in result.still_invalid],
            }
        )
    else:
        console.print(
            f"{len(result.sent)} replayed, {len(result.already)} already replayed, "
            f"{len(result.still_invalid)} still invalid"
        )
        for offset, reason in result.still_invalid:
            console.print(f"offset {offset}: {reason}")
    if result.still_invalid:
        raise SystemExit(int(ExitCode.REFUSED))


__all__ = ["app"]
