"""A real PostgreSQL database with routed tables, a route file for it, and the Debezium source as a child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from spine.settings import KafkaSettings
from tests.fixtures.postgres import PostgresServer

TABLES = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text, country text,
                        balance numeric(12, 2));
ALTER TABLE customers REPLICA IDENTITY FULL;
CREATE TABLE payments (id bigint PRIMARY KEY, customer_id integer, amount numeric(12, 2), card text);
ALTER TABLE payments REPLICA IDENTITY FULL;
"""

ROUTES = """source:
  name: {prefix}
  dsn: host=127.0.0.1 port={port} user=spine dbname={db}
  slot: {slot}
  heartbeat_ms: 1000
sinks:
  analytics-eu: {{url: "{sink_url}"}}
  analytics-us: {{url: "{sink_url}"}}
routes:
  - table: public.customers
    name: customers
    dataset: crm.customers
    sink: analytics-eu
    key: [id]
    rename: {{name: full_name}}
    fields: {{email: [PII.email]}}
    delete: {delete}
  - table: public.payments
    name: payments
    dataset: billing.payments
    sink: analytics-us
    key: [id]
"""

MATRIX = """version: "cdc-{version}"
regions: [eu-west, eu-central, us-east]
classifications: [PUBLIC, INTERNAL, PII, PII.email, PII.financial]
datasets:
  crm.customers: {{home: eu-west, classification: PII}}
  billing.payments: {{home: eu-central, classification: PII.financial}}
sinks:
  analytics-eu: {{region: eu-central, allowed_classifications: [PUBLIC, INTERNAL, PII]}}
  analytics-us: {{region: us-east, allowed_classifications: [PUBLIC, INTERNAL, PII.financial]}}
rules:
  - id: pii-within-eu
    allow: {{classification: PII, from: [eu-west, eu-central], to: [eu-west, eu-central],
             redact: {{fields_tagged: [PII.email], action: mask}}}}
{extra}
"""
FINANCIAL_TO_US = """  - id: payments-to-us
    allow: {classification: PII.financial, from: eu-central, to: us-east}
"""


@dataclass
class CdcEnv:
    server: PostgresServer
    db: str
    prefix: str
    home: Path
    routes_file: Path
    sink_url: str
    kafka: KafkaSettings
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> None:
        with psycopg.connect(self.server.dsn(self.db), autocommit=True) as conn:
            conn.execute(statement, params)

    def query(self, statement: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.server.dsn(self.db)) as conn:
            return list(conn.execute(statement).fetchall())

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("SPINE_") or k.startswith("SPINE_TEST")
        }
        env.update(
            SPINE_HOME=str(self.home),
            SPINE_KAFKA_BOOTSTRAP=self.kafka.bootstrap_or_raise(),
            SPINE_CDC_ROUTES_FILE=str(self.routes_file),
            SPINE_LOG_LEVEL="INFO",
        )
        return env

    def start(
        self, module: str, log: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.home / log).open("ab") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", module],
                env={**self.env(), **(extra_env or {})},
                stdout=out,
                stderr=out,
            )
        self.children.append(child)
        return child

    def wait_streaming(self, timeout: float = 120) -> None:
        """Until Debezium holds its replication slot (snapshot done, streaming): later writes are changes."""
        slot = f"slot_{self.prefix}"

        def active() -> bool:
            sql = f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{slot}' AND active"
            return bool(self.query(sql))

        wait_for(active, timeout, f"Debezium streaming from slot {slot}", lambda: self.log("source.log"))

    def log(self, name: str) -> str:
        path = self.home / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, detail: Callable[[], str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = "" if detail is None else "\n" + detail()[-3000:]
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{tail}")
        time.sleep(0.2)


@pytest.fixture
def cdc_env(
    postgres_server: PostgresServer, kafka_settings: KafkaSettings, tmp_path: Path
) -> Iterator[CdcEnv]:
    db = postgres_server.create_database()
    prefix = f"src{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.dsn(db), autocommit=True) as conn:
        conn.execute(TABLES)
    home = tmp_path / "home"
    home.mkdir()
    sink_url = f"sqlite:///{tmp_path / 'sink.db'}"
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text(
        ROUTES.format(
            prefix=prefix,
            port=postgres_server.port,
            db=db,
            slot=f"slot_{prefix}",
            sink_url=sink_url,
            delete="delete",
        )
    )
    env = CdcEnv(postgres_server, db, prefix, home, routes_file, sink_url, kafka_settings)
    try:
        yield env
    finally:
        env.stop_all()
        with psycopg.connect(postgres_server.dsn(db), autocommit=True) as conn:
            conn.execute(  # the slot outlives the engine and would pin WAL
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                (f"slot_{prefix}",),
            )
