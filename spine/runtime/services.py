"""The services ``spine up`` runs, and how each is started and probed.

HTTP services answer ``/health/ready`` on their port; workers (the CDC source and router, started when
``[cdc] routes_file`` is set) have no port and prove their health with a heartbeat file in the run
directory (:mod:`spine.runtime.heartbeat`), passed to them as ``--heartbeat FILE``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum

from spine.settings import (
    HttpServiceSettings,
    LineageSettings,
    RegistrySettings,
    ResidencyGateSettings,
    SpineSettings,
)


class Kind(StrEnum):
    BROKER = "broker"
    HTTP = "http"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    kind: Kind
    module: str | None = None  # ``python -m module`` for HTTP services and workers
    settings: type[HttpServiceSettings] | None = None
    # (setting, service): settings that name another service's URL, which ``spine up`` fills in.
    peers: tuple[tuple[str, str], ...] = ()
    extra: str = "all"  # the data-spine extra that installs what it runs on (see spine.extras)

    def port(self, spine: SpineSettings) -> int:
        return 0 if self.kind is Kind.WORKER else spine.port(self.name)

    def url(self, spine: SpineSettings) -> str:
        """Where it is probed: host:port, an HTTP URL, or a worker's heartbeat file."""
        if self.kind is Kind.WORKER:
            return str(spine.run_dir / f"{self.name}.heartbeat.json")
        if self.kind is Kind.BROKER:
            return f"{spine.host}:{self.port(spine)}"
        return f"http://{spine.host}:{self.port(spine)}"

    def port_env(self) -> str | None:
        return f"{self.settings.env_prefix()}PORT" if self.settings is not None else None

    def peer_env(self, spine: SpineSettings) -> dict[str, str]:
        """Environment naming the URLs of the services this one calls, e.g. the registry's gate URL."""
        if self.settings is None:
            return {}
        by_name = {spec.name: spec for spec in ALL_SERVICES}
        prefix = self.settings.env_prefix()
        return {f"{prefix}{setting.upper()}": by_name[peer].url(spine) for setting, peer in self.peers}

    def exists(self) -> bool:
        """A service exists once its package can be run with ``python -m``."""
        if self.module is None:
            return True
        try:
            if self.kind is Kind.WORKER:
                return importlib.util.find_spec(self.module) is not None
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False


BROKER = ServiceSpec("broker", Kind.BROKER, extra="embedded")
ALL_SERVICES: tuple[ServiceSpec, ...] = (
    BROKER,
    ServiceSpec(
        "registry",
        Kind.HTTP,
        "registry",
        RegistrySettings,
        peers=(("residency_url", "residency-gate"),),
        extra="registry",
    ),
    ServiceSpec("residency-gate", Kind.HTTP, "residency_gate", ResidencyGateSettings, extra="residency"),
    ServiceSpec("lineage", Kind.HTTP, "lineage", LineageSettings, extra="lineage"),
)
# Started after the HTTP services (the router asks the gate for every batch), only when routes are set.
CDC_WORKERS: tuple[ServiceSpec, ...] = (
    ServiceSpec("cdc-source", Kind.WORKER, "cdc.source", extra="cdc"),
    ServiceSpec("cdc-router", Kind.WORKER, "cdc.router", extra="cdc"),
)


def planned_services(*, embedded_broker: bool, cdc: bool = False) -> list[ServiceSpec]:
    """The services to start: the broker unless Kafka is external, every HTTP service that exists, then
    the CDC workers when a route file is configured."""
    services = [
        s for s in ALL_SERVICES if (s.kind is Kind.HTTP and s.exists()) or (s is BROKER and embedded_broker)
    ]
    return services + ([w for w in CDC_WORKERS if w.exists()] if cdc else [])


__all__ = ["ALL_SERVICES", "BROKER", "CDC_WORKERS", "Kind", "ServiceSpec", "planned_services"]
