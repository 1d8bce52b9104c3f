from __future__ import annotations

import pytest

from spine.secrets import env_names, is_reference, mask_url, substitute_env, url_password


def test_references_are_found_and_substituted_and_a_missing_one_is_named() -> None:
    text = "postgresql://cdc:${DB_PASSWORD}@${DB_HOST}:5432/shop"
    assert env_names(text) == ["DB_PASSWORD", "DB_HOST"]
    assert env_names(3) == []
    assert substitute_env(text, {"DB_PASSWORD": "s3cret", "DB_HOST": "db"}) == (
        "postgresql://cdc:s3cret@db:5432/shop"
    )
    with pytest.raises(KeyError, match="DB_HOST"):
        substitute_env(text, {"DB_PASSWORD": "x"})


def test_a_reference_is_exactly_one_variable() -> None:
    assert is_reference("${A_1}")
    assert not is_reference("x${A}")
    assert not is_reference("${1A}")
    assert not is_reference("$A")


def test_url_passwords_are_found_and_masked() -> None:
    assert url_password("postgresql://u:pw@h/db") == "pw"
    assert url_password("postgresql://u@h/db") is None
    assert url_password("host=h password=pw") is None  # not a URL
    assert mask_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"
