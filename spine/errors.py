"""The root of Data Spine's exception tree and the exit codes every command maps it to.

Each package subclasses :class:`SpineError`; third-party errors are translated once, at the boundary that
meets them (see :mod:`spine.kafka.errors`), with ``raise ... from exc``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``spine`` command, stable for CI jobs."""

    OK = 0
    REFUSED = 1  # a check or policy said no: incompatible, denied, tampered
    USAGE = 2  # usage or configuration error
    UNAVAILABLE = 3  # a service or the broker is unreachable


class SpineError(Exception):
    """An error Data Spine raises on purpose, with a message meant for the person reading it."""

    exit_code: ExitCode = ExitCode.REFUSED


class ConfigError(SpineError):
    """A setting, configuration file or command-line value is wrong."""

    exit_code = ExitCode.USAGE


class PortInUseError(ConfigError):
    """A port a service needs is already taken."""

    def __init__(self, port: int, service: str) -> None:
        super().__init__(f"port {port} needed by {service} is already in use")
        self.port = port
        self.service = service


class UnavailableError(SpineError):
    """A service, broker or database could not be reached."""

    exit_code = ExitCode.UNAVAILABLE


class DegradedError(UnavailableError):
    """A service answers but falls behind (e.g. an outbox whose oldest row waits too long).

    ``detail`` is a small JSON-able mapping naming what is degraded, for readiness bodies.
    """

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.detail = detail or {}


class BrokerStartError(UnavailableError):
    """The embedded Kafka-protocol broker did not start."""


class AuthError(SpineError):
    """A request lacked valid credentials (401)."""


class ForbiddenError(AuthError):
    """The credentials are valid but the role may not do this (403)."""


class DatabaseUnavailableError(UnavailableError):
    """A service's database could not be reached or written (each service answers it with its own 503)."""


__all__ = [
    "AuthError",
    "BrokerStartError",
    "ConfigError",
    "DatabaseUnavailableError",
    "DegradedError",
    "ExitCode",
    "ForbiddenError",
    "PortInUseError",
    "SpineError",
    "UnavailableError",
]
