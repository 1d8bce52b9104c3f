from __future__ import annotations

import pytest

from spine.redaction import MASK, FieldRedaction, Redactor, redact


def test_dropped_field_is_removed_and_the_input_is_untouched() -> None:
    record = {"id": "1", "email": "a@example.com"}
    assert redact(record, [FieldRedaction("email", "drop")]) == {"id": "1"}
    assert record == {"id": "1", "email": "a@example.com"}


def test_masked_string_keeps_no_character_and_other_types_become_none() -> None:
    out = redact(
        {"email": "a@example.com", "age": 42},
        [FieldRedaction("email", "mask"), FieldRedaction("age", "mask")],
    )
    assert out == {"email": MASK, "age": None}


def test_nested_path_is_redacted_inside_objects_and_every_list_element() -> None:
    record = {
        "customer": {"email": "a@x", "name": "A"},
        "contacts": [{"email": "b@x"}, {"email": "c@x", "kind": "work"}],
    }
    out = redact(record, [FieldRedaction("customer.email", "drop"), FieldRedaction("contacts.email", "mask")])
    assert out == {"customer": {"name": "A"}, "contacts": [{"email": MASK}, {"email": MASK, "kind": "work"}]}
    assert record["customer"] == {"email": "a@x", "name": "A"}


def test_missing_field_and_non_object_parent_are_left_alone() -> None:
    assert redact({"a": 1, "b": "x"}, [FieldRedaction("z", "drop"), FieldRedaction("b.c", "drop")]) == {
        "a": 1,
        "b": "x",
    }


def test_unknown_action_is_refused_when_compiled() -> None:
    with pytest.raises(ValueError, match="unknown action 'hash'"):
        Redactor([FieldRedaction("a", "hash")])


def test_an_empty_redactor_is_false() -> None:
    assert not Redactor([])
    assert Redactor([FieldRedaction("a", "drop")])
