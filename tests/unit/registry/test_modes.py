"""Which writes each registry mode refuses (Confluent's AbstractSchemaRegistry.checkRegisterMode and
isReadOnlyMode)."""

from __future__ import annotations

import pytest

from registry.errors import InvalidModeError
from registry.modes import Mode, parse_mode, read_only_refusal, register_refusal


@pytest.mark.parametrize("text", ["readonly_override", "READONLY_OVERRIDE", "Import", "READWRITE"])
def test_modes_parse_in_any_case_as_confluent_upper_cases_them(text: str) -> None:
    assert parse_mode(text).value == text.upper()


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(InvalidModeError, match="READONLY_OVERRIDE"):
        parse_mode("FORWARDONLY")


@pytest.mark.parametrize("mode", [Mode.READONLY, Mode.READONLY_OVERRIDE])
@pytest.mark.parametrize("explicit_id", [True, False])
def test_read_only_modes_refuse_every_registration(mode: Mode, explicit_id: bool) -> None:
    assert register_refusal("s", mode, explicit_id=explicit_id) == "Subject s is in read-only mode"
    assert read_only_refusal("s", mode) is not None


def test_an_explicit_id_needs_import_mode() -> None:
    assert register_refusal("s", Mode.READWRITE, explicit_id=True) == "Subject s is not in import mode"
    assert register_refusal("s", Mode.IMPORT, explicit_id=True) is None


def test_import_mode_refuses_a_registration_without_an_id() -> None:
    assert register_refusal("s", Mode.IMPORT, explicit_id=False) == "Subject s is not in read-write mode"
    assert register_refusal("s", Mode.READWRITE, explicit_id=False) is None


@pytest.mark.parametrize("mode", [Mode.READWRITE, Mode.IMPORT])
def test_writable_modes_allow_deletes_and_configuration(mode: Mode) -> None:
    assert read_only_refusal("s", mode) is None
    assert read_only_refusal(None, mode) is None
