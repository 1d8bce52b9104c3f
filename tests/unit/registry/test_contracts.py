"""Data-contract helpers: canonical metadata, ``confluent:version`` (Confluent's Metadata.CONFLUENT_VERSION)
and compatibility-group values."""

from __future__ import annotations

from registry.contracts import canonical, group_value, has_properties, pinned_version, with_version


def test_canonical_json_ignores_key_order_and_empty_parts() -> None:
    one = canonical({"properties": {"b": "2", "a": "1"}, "tags": {}})
    two = canonical({"tags": None, "properties": {"a": "1", "b": "2"}})
    assert one == two == '{"properties":{"a":"1","b":"2"}}'
    assert canonical({}) is None
    assert canonical({"properties": {}}) is None


def test_confluent_version_is_read_and_rewritten_only_when_present() -> None:
    pinned = canonical({"properties": {"confluent:version": "3", "owner": "x"}})
    assert pinned_version(pinned) == 3
    assert pinned_version(with_version(pinned, 7)) == 7
    assert group_value(with_version(pinned, 7), "owner") == "x"
    plain = canonical({"properties": {"owner": "x"}})
    assert with_version(plain, 7) == plain
    assert pinned_version(plain) is None
    assert pinned_version(canonical({"properties": {"confluent:version": "latest"}})) is None


def test_property_matching_needs_every_pair() -> None:
    metadata = canonical({"properties": {"a": "1", "b": "2"}})
    assert has_properties(metadata, {"a": "1"})
    assert has_properties(metadata, {})
    assert not has_properties(metadata, {"a": "1", "b": "3"})
    assert not has_properties(None, {"a": "1"})
    assert group_value(None, "a") is None
