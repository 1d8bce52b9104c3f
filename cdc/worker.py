"""What ``python -m cdc.source`` and ``python -m cdc.router`` both do first: read the command line, the
settings and the route file, and check that a broker is configured (raising :class:`SpineError`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdc.routes import RouteFile, load_routes
from spine.errors import ConfigError
from spine.logging import configure_logging
from spine.settings import CdcSettings, KafkaSettings, SpineSettings, load_settings


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    spine: SpineSettings
    cdc: CdcSettings
    kafka: KafkaSettings
    routes: RouteFile
    heartbeat: Path | None


def worker_setup(
    prog: str, description: str | None, argv: list[str] | None, environ: Mapping[str, str] | None = None
) -> WorkerSetup:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("routes", nargs="?", type=Path, help="route file (default SPINE_CDC_ROUTES_FILE)")
    parser.add_argument("--heartbeat", type=Path, help="heartbeat file for the supervisor (spine up)")
    args = parser.parse_args(argv)
    spine = load_settings(SpineSettings)
    configure_logging(spine.log_level)
    cdc = load_settings(CdcSettings)
    path = args.routes or cdc.routes_file
    if path is None:
        raise ConfigError("no route file: pass one or set SPINE_CDC_ROUTES_FILE")
    routes = load_routes(path, environ)
    kafka = load_settings(KafkaSettings)
    kafka.bootstrap_or_raise()
    return WorkerSetup(spine, cdc, kafka, routes, args.heartbeat)


__all__ = ["WorkerSetup", "worker_setup"]
