"""A throw-away PostgreSQL cluster (Debian's server binaries) for benchmarks, demos and the test fixture.

The cluster is initialised in a temporary directory with ``wal_level=logical`` (CDC needs it), trust
authentication for user ``spine``, listens on 127.0.0.1 only, and is removed by :meth:`stop`. As root,
initdb and the server run as the ``postgres`` user, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spine.broker import free_port
from spine.errors import ConfigError


def postgres_bin_dir() -> Path:
    override = os.environ.get("SPINE_TEST_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        raise ConfigError(
            "PostgreSQL server binaries not found: apt-get install postgresql (or set SPINE_TEST_PG_BIN)"
        )
    return Path(candidates[0]).parent


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    data_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def throwaway_postgres(ready_timeout: float = 30.0) -> Iterator[PostgresServer]:
    """Start a fresh cluster, yield it, and stop and delete it afterwards (also on errors)."""
    import psycopg

    bindir = postgres_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="spine-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o755)
    port = free_port()
    try:
        subprocess.run(
            as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "spine",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c wal_level=logical "
            "-c max_wal_senders=10 -c max_replication_slots=10 -c fsync=off"
        )
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log")]
        subprocess.run(
            as_postgres([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
            check=True,
            capture_output=True,
        )
        server = PostgresServer(host="127.0.0.1", port=port, user="spine", data_dir=data)
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                psycopg.connect(server.dsn(), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["PostgresServer", "as_postgres", "postgres_bin_dir", "throwaway_postgres"]
