"""``spine demo cdc``: the whole CDC path on throw-away servers, in about a minute.

Starts a throw-away PostgreSQL (:mod:`cdc.throwaway`), the embedded broker and a residency gate, creates
two tables with a PII column (``customers.email``, ``payments.card``), a residency matrix and a route
file, runs the embedded Debezium source (``python -m cdc.source``) and the router, writes rows, and shows
what arrived: customers in the EU sink with the email masked by the gate's decision, payments (financial
PII, no rule lets it reach the US sink) denied into ``<topic>.dlq`` with the reason and decision id.
Everything it started is stopped and removed at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine.errors import UnavailableError

if TYPE_CHECKING:
    from spine.settings import KafkaSettings

TABLES = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text, country text);
ALTER TABLE customers REPLICA IDENTITY FULL;
CREATE TABLE payments (id integer PRIMARY KEY, customer_id integer, amount numeric(12, 2), card text);
ALTER TABLE payments REPLICA IDENTITY FULL;
"""

ROWS = """
INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK'), (2, 'Bob', 'bob@example.org', 'FR'),
                             (3, 'Cy', 'cy@example.org', 'DE');
INSERT INTO payments VALUES (10, 1, 12.50, '4111-1111-1111-1111'), (11, 2, 99.00, '5500-0000-0000-0004');
UPDATE customers SET country = 'IE' WHERE id = 3;
"""

ROUTES = """source:
  name: demo
  dsn: host=127.0.0.1 port={port} user=spine dbname={db}
  slot: spine_demo
  heartbeat_ms: 1000
sinks:
  analytics-eu: {{url: "sqlite:///{sink}"}}
  analytics-us: {{url: "sqlite:///{sink}"}}
routes:
  - table: public.customers
    name: customers
    dataset: crm.customers
    sink: analytics-eu
    key: [id]
    fields: {{email: [PII.email]}}
  - table: public.payments
    name: payments
    dataset: billing.payments
    sink: analytics-us
    key: [id]
    fields: {{card: [PII.financial]}}
"""

MATRIX = """version: "demo-cdc-1"
regions: [eu-west, eu-central, us-east]
classifications: [PUBLIC, INTERNAL, PII, PII.email, PII.financial]
datasets:
  crm.customers: {home: eu-west, classification: PII}
  billing.payments: {home: eu-central, classification: PII.financial}
sinks:
  analytics-eu: {region: eu-central, allowed_classifications: [PUBLIC, INTERNAL, PII]}
  analytics-us: {region: us-east, allowed_classifications: [PUBLIC, INTERNAL, PII.financial]}
rules:
  - id: pii-within-eu
    allow: {classification: PII, from: [eu-west, eu-central], to: [eu-west, eu-central],
            redact: {fields_tagged: [PII.email], action: mask}}
"""


@dataclass
class DemoResult:
    sink_rows: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    lineage: list[dict[str, Any]] = field(default_factory=list)  # each batch's run, as OpenLineage events


def _wait(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-400:].strip().splitlines()[-1:] if log.exists() else []
            raise UnavailableError(f"demo: timed out waiting for {what}{': ' + tail[0] if tail else ''}")
        time.sleep(0.2)


def _child_env(home: Path, bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(SPINE_HOME=str(home), SPINE_KAFKA_BOOTSTRAP=bootstrap, SPINE_LOG_LEVEL="WARNING")
    return env


@contextmanager
def _child(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _cdc_lineage(kafka: KafkaSettings) -> list[dict[str, Any]]:
    """The CDC jobs' OpenLineage events the router's relays delivered to the lineage topic."""
    from spine.kafka import read_topic
    from spine.topics import LINEAGE

    events = []
    for message in read_topic(kafka, LINEAGE):
        try:
            event = json.loads(message.value() or b"")
        except ValueError:
            continue
        if isinstance(event, dict) and str(event.get("job", {}).get("name", "")).startswith("cdc."):
            events.append(event)
    return events


def run_demo(say: Callable[[str], None], timeout: float = 180.0) -> DemoResult:
    import psycopg
    import sqlalchemy as sa

    from cdc.router import Router
    from cdc.routes import load_routes
    from cdc.throwaway import throwaway_postgres
    from residency_gate.client import GateClient
    from spine.auth import Role, TokenStore
    from spine.broker import EmbeddedBroker, free_port
    from spine.headers import DlqHeaders
    from spine.kafka import read_topic
    from spine.runtime.health import wait_http_ready
    from spine.settings import CdcSettings, KafkaSettings

    result = DemoResult()
    with tempfile.TemporaryDirectory(prefix="spine-demo-cdc-") as tmp, throwaway_postgres() as server:
        home = Path(tmp)
        db = server.create_database("shop")
        with psycopg.connect(server.dsn(db), autocommit=True) as conn:
            conn.execute(TABLES)
        say(
            f"PostgreSQL on 127.0.0.1:{server.port}: database shop, tables customers (email) and "
            "payments (card)"
        )
        sink = home / "analytics.db"
        routes_file = home / "routes.yaml"
        routes_file.write_text(ROUTES.format(port=server.port, db=db, sink=sink))
        matrix = home / "matrix.yaml"
        matrix.write_text(MATRIX)
        broker = EmbeddedBroker(free_port(), log_file=home / "broker.log")
        broker.start()
        try:
            env = _child_env(home, broker.bootstrap)
            port = free_port()
            gate_env = {**env, "SPINE_RESIDENCY_PORT": str(port), "SPINE_RESIDENCY_POLICY_FILE": str(matrix)}
            gate_cmd = [sys.executable, "-m", "residency_gate"]
            with (
                _child(gate_cmd, gate_env, home / "gate.log") as gate_process,
                _child(
                    [sys.executable, "-m", "cdc.source", str(routes_file)], env, home / "source.log"
                ) as src,
            ):
                url = f"http://127.0.0.1:{port}"
                if not wait_http_ready(url, 60, gate_process):
                    raise UnavailableError(f"demo: the residency gate did not start; see {home / 'gate.log'}")
                say(f"residency gate on {url} (matrix: PII stays in the EU with emails masked)")

                def streaming() -> bool:
                    if src.poll() is not None:
                        raise UnavailableError(f"demo: the Debezium source exited with {src.returncode}")
                    with psycopg.connect(server.dsn(db)) as conn:
                        sql = "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'spine_demo' AND active"
                        return conn.execute(sql).fetchone() is not None

                _wait(streaming, timeout, "Debezium to stream", home / "source.log")
                say("Debezium (embedded) streaming from slot spine_demo onto topics demo.public.*")
                routes = load_routes(routes_file)
                token = TokenStore(home / "auth" / "tokens.json").issue(Role.CONSUMER, "demo-cdc")
                kafka = KafkaSettings(bootstrap=broker.bootstrap)
                gate = GateClient(url, token)
                router = Router(routes, CdcSettings(group="demo-cdc"), kafka, gate)
                router.start()
                thread = threading.Thread(target=router.run, name="router", daemon=True)
                thread.start()
                try:
                    with psycopg.connect(server.dsn(db), autocommit=True) as conn:
                        conn.execute(ROWS)
                    say("wrote 3 customers, 2 payments and 1 update")
                    engine = sa.create_engine(f"sqlite:///{sink}")
                    dlq = f"{routes.topic(routes.route('payments'))}.dlq"

                    def rows() -> list[dict[str, Any]]:
                        with engine.connect() as conn:
                            if not sa.inspect(conn).has_table("customers"):
                                return []
                            query = sa.text("SELECT id, name, email, country FROM customers ORDER BY id")
                            return [dict(r._mapping) for r in conn.execute(query)]

                    def arrived() -> bool:
                        found = rows()
                        return (
                            len(found) == 3
                            and found[2]["country"] == "IE"
                            and len(read_topic(kafka, dlq)) >= 2
                        )

                    _wait(arrived, timeout, "the rows in the sink and the DLQ", home / "source.log")
                    result.sink_rows = rows()
                    for letter in read_topic(kafka, dlq):
                        headers = DlqHeaders.from_kafka(letter.headers())
                        result.dead_letters.append(
                            {
                                "offset": letter.offset(),
                                "reason": headers.reason if headers else None,
                                "decision_id": headers.decision_id if headers else None,
                            }
                        )
                    with engine.connect() as sink_conn:
                        query = sa.text(
                            "SELECT route, rows, dead_lettered, decision_ids FROM _spine_cdc_batches"
                        )
                        result.batches = [dict(r._mapping) for r in sink_conn.execute(query)]
                    engine.dispose()

                    def runs_ended() -> bool:  # every batch's run ended on the lineage topic
                        result.lineage = _cdc_lineage(kafka)
                        ended = [e for e in result.lineage if e.get("eventType") in {"COMPLETE", "FAIL"}]
                        return len(ended) >= len(result.batches)

                    _wait(runs_ended, timeout, "each batch's lineage run", home / "source.log")
                finally:
                    router.stop()
                    thread.join(30)
                    router.close()
                    gate.close()
        finally:
            broker.stop()
    return result


__all__ = ["DemoResult", "run_demo"]
