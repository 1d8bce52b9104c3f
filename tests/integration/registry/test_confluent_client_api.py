"""confluent-kafka's own SchemaRegistryClient against the registry (no broker needed): modes and IMPORT with
explicit ids, pagination parameters, metadata and ``get_latest_with_metadata``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Rule,
    RuleKind,
    RuleMode,
    RuleSet,
    Schema,
    SchemaRegistryClient,
    ServerConfig,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError

from tests.integration.registry.conftest import RunningRegistry, build_app, make_tokens, serve_in_thread

pytestmark = pytest.mark.integration


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[RunningRegistry]:
    """A real HTTP registry on a free port, without Kafka (schema events stay in the outbox)."""
    tokens = make_tokens(tmp_path)
    app = build_app(tmp_path)
    url, server, thread = serve_in_thread(app)
    try:
        yield RunningRegistry(url, app, tokens, tmp_path)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def sr(plain_server: RunningRegistry) -> Iterator[Callable[[str], SchemaRegistryClient]]:
    made: list[SchemaRegistryClient] = []

    def make(role: str = "admin") -> SchemaRegistryClient:
        client = SchemaRegistryClient(
            {
                "url": plain_server.url,
                "bearer.auth.credentials.source": "STATIC_TOKEN",
                "bearer.auth.token": getattr(plain_server.tokens, role),
                "bearer.auth.logical.cluster": "spine",
            }
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def avro(name: str, *fields: str) -> Schema:
    document = {
        "type": "record",
        "name": name,
        "namespace": "com.example",
        "fields": [{"name": f, "type": ["null", "string"], "default": None} for f in fields],
    }
    return Schema(json.dumps(document), "AVRO")


def test_client_sets_modes_and_registers_with_explicit_ids_in_import_mode(
    sr: Callable[[str], SchemaRegistryClient],
) -> None:
    client = sr("admin")
    assert client.get_global_mode() == "READWRITE"
    assert client.update_global_mode("IMPORT") == "IMPORT"
    assert client.get_global_mode() == "IMPORT"
    # The Python client's Schema carries no id, so the import body goes through the client's own REST layer.
    imported = client._rest_client.post(
        "subjects/imported-value/versions", body={**avro("Imported", "a").to_dict(), "id": 42, "version": 5}
    )
    assert (imported["id"], imported["version"]) == (42, 5)
    assert client.get_schema(42).schema_str == avro("Imported", "a").schema_str
    assert client.get_version("imported-value", 5).schema_id == 42
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("other-value", avro("Other", "b"))
    assert refused.value.error_code == 42205
    assert client.update_global_mode("READWRITE") == "READWRITE"
    assert client.register_schema("other-value", avro("Other", "b")) == 43

    assert client.update_mode("other-value", "READONLY_OVERRIDE") == "READONLY_OVERRIDE"
    assert client.get_mode("other-value") == "READONLY_OVERRIDE"
    with pytest.raises(SchemaRegistryError) as read_only:
        client.register_schema("other-value", avro("Other", "b", "c"))
    assert read_only.value.error_code == 42205
    assert client.delete_mode("other-value") == "READONLY_OVERRIDE"
    assert client.register_schema("other-value", avro("Other", "b", "c")) == 44


def test_client_pagination_prefix_and_deleted_only_parameters_work(
    sr: Callable[[str], SchemaRegistryClient],
) -> None:
    client = sr("admin")
    for subject in ("pa-value", "pb-value", "pc-value", "other-value"):
        client.register_schema(subject, avro("Shared", "a"))
    for n in range(2, 5):
        client.register_schema("pa-value", avro("Shared", *[f"f{i}" for i in range(n)]))
    shared = client.get_latest_version("pb-value").schema_id
    assert shared is not None
    client.delete_subject("other-value")

    assert client.get_subjects(subject_prefix="p") == ["pa-value", "pb-value", "pc-value"]
    assert client.get_subjects(offset=1, limit=2) == ["pb-value", "pc-value"]
    assert client.get_subjects(deleted_only=True) == ["other-value"]
    assert client.get_versions("pa-value", offset=1, limit=2) == [2, 3]
    assert client.get_subjects_by_schema_id(shared, offset=1, limit=1) == ["pb-value"]
    assert [(v.subject, v.version) for v in client.get_schema_versions(shared, offset=2)] == [("pc-value", 1)]


def test_client_registers_data_contracts_and_finds_the_latest_with_metadata(
    sr: Callable[[str], SchemaRegistryClient],
) -> None:
    client = sr("admin")
    subject = "contract-value"

    def versioned(app_version: str, *fields: str, rule_set: RuleSet | None = None) -> Schema:
        plain = avro("Contract", *fields)
        metadata = Metadata(None, MetadataProperties({"app.version": app_version}), None)
        return Schema(plain.schema_str, "AVRO", metadata=metadata, rule_set=rule_set)

    rule = Rule(
        "nonEmpty",
        None,
        RuleKind.CONDITION,
        RuleMode.WRITE,
        "CEL",
        None,
        None,
        "size(message.a) > 0",
        None,
        None,
        False,
    )
    first = versioned("1", "a", rule_set=RuleSet(None, [rule]))
    first_id = client.register_schema(subject, first)
    second_id = client.register_schema(subject, versioned("2", "a", "b"))
    client.register_schema(subject, versioned("3", "a", "b", "c"))

    found = client.get_latest_with_metadata(subject, {"app.version": "1"})
    assert (found.schema_id, found.version) == (first_id, 1)
    assert found.schema.metadata is not None
    assert found.schema.metadata.properties is not None
    assert found.schema.metadata.properties.properties == {"app.version": "1"}
    assert found.schema.rule_set is not None
    assert [r.name for r in found.schema.rule_set.domain_rules or []] == ["nonEmpty"]
    assert client.get_latest_with_metadata(subject, {"app.version": "2"}).schema_id == second_id
    with pytest.raises(SchemaRegistryError) as missing:
        client.get_latest_with_metadata(subject, {"app.version": "9"})
    assert missing.value.error_code == 40403

    # The client answers set_config with the body as sent back (a dict), get_config with a ServerConfig.
    answered: object = client.set_config(subject, ServerConfig(compatibility_group="app.version"))
    assert answered == {"compatibilityGroup": "app.version"}
    assert client.get_config(subject).compatibility_group == "app.version"
