"""Registry modes as Confluent defines them, and which writes each one refuses (pure: no I/O).

READWRITE registers with auto-assigned ids; IMPORT registers only with an explicit ``id`` (and keeps the
``version`` sent), skipping the compatibility check, so another registry's ids carry over; READONLY and
READONLY_OVERRIDE refuse registration, deletes and configuration changes (Confluent treats them alike).
"""

from __future__ import annotations

from enum import StrEnum

from registry.errors import InvalidModeError


class Mode(StrEnum):
    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"

    @property
    def read_only(self) -> bool:
        return self in (Mode.READONLY, Mode.READONLY_OVERRIDE)


DEFAULT_MODE = Mode.READWRITE


def parse_mode(value: str) -> Mode:
    """A mode from a request (any case, as Confluent upper-cases it), or InvalidModeError (42204)."""
    try:
        return Mode(str(value).upper())
    except ValueError:
        raise InvalidModeError(f"Invalid mode. Valid values are {', '.join(m.value for m in Mode)}") from None


def read_only_refusal(subject: str | None, mode: Mode) -> str | None:
    """Why a write to ``subject`` (None: the global scope) is refused in ``mode``, or None."""
    if mode.read_only:
        return f"Subject {subject} is in read-only mode" if subject else "The registry is in read-only mode"
    return None


def register_refusal(subject: str, mode: Mode, *, explicit_id: bool) -> str | None:
    """Why a registration is refused (Confluent's checkRegisterMode), or None: read-only modes refuse
    every registration, an explicit id needs IMPORT, and one without an id needs READWRITE."""
    refused = read_only_refusal(subject, mode)
    if refused is not None:
        return refused
    if explicit_id and mode is not Mode.IMPORT:
        return f"Subject {subject} is not in import mode"
    if not explicit_id and mode is not Mode.READWRITE:
        return f"Subject {subject} is not in read-write mode"
    return None


__all__ = ["DEFAULT_MODE", "Mode", "parse_mode", "read_only_refusal", "register_refusal"]
