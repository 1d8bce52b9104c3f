"""The services ``spine up`` runs, and how each is started and probed."""

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


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    kind: Kind
    module: str | None = None  # ``python -m module`` for HTTP services
    settings: type[HttpServiceSettings] | None = None
    # (setting, service): settings that name another service's URL, which ``spine up`` fills in.
    peers: tuple[tuple[str, str], ...] = ()
    extra: str = "all"  # the data-spine extra that installs what it runs on (see spine.extras)

    def port(self, spine: SpineSettings) -> int:
        return spine.port(self.name)

    def url(self, spine: SpineSettings) -> str:
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


def planned_services(*, embedded_broker: bool) -> list[ServiceSpec]:
    """The services to start: the broker unless Kafka is external, then every HTTP service that exists."""
    return [
        s for s in ALL_SERVICES if (s.kind is Kind.HTTP and s.exists()) or (s is BROKER and embedded_broker)
    ]


__all__ = ["ALL_SERVICES", "BROKER", "Kind", "ServiceSpec", "planned_services"]
