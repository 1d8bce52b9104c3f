from __future__ import annotations

from pathlib import Path

import pytest

from spine.auth import Role, TokenStore
from spine.errors import AuthError, ConfigError, ForbiddenError


def test_issued_token_authenticates_with_its_role_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token = store.issue(Role.PRODUCER)
    assert token not in (tmp_path / "tokens.json").read_text()
    assert store.authenticate(f"Bearer {token}").role is Role.PRODUCER
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_role_checks_admit_admin_everywhere_and_refuse_other_roles(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    admin, consumer = store.issue(Role.ADMIN), store.issue(Role.CONSUMER)
    assert store.authorize(f"Bearer {admin}", Role.SECURITY).role is Role.ADMIN
    with pytest.raises(ForbiddenError, match="needs producer"):
        store.authorize(f"Bearer {consumer}", Role.PRODUCER)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer spn_unknown"])
def test_missing_malformed_or_unknown_tokens_are_refused(tmp_path: Path, header: str | None) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.issue(Role.ADMIN)
    with pytest.raises(AuthError):
        store.authenticate(header)


def test_a_token_issued_by_another_process_is_seen_without_restart(tmp_path: Path) -> None:
    reader = TokenStore(tmp_path / "tokens.json")
    with pytest.raises(AuthError):
        reader.authenticate("Bearer spn_x")
    token = TokenStore(tmp_path / "tokens.json").issue(Role.SECURITY)
    assert reader.authenticate(f"Bearer {token}").role is Role.SECURITY


def test_corrupt_store_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=str(path)):
        TokenStore(path).authenticate("Bearer spn_x")
