"""A registered version's lineage event: the governed topic as a dataset version, valid OpenLineage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from openlineage.client.serde import Serde

from lineage.emit import GOVERNANCE_FACET
from registry.lineage import RegisteredVersion, columns, version_event
from registry.schemas import ParsedSchema
from tests.unit.lineage.spec import validate_event
from tests.unit.registry.helpers import avro_record, field, json_schema, proto_message, record

META = 'import "confluent/meta.proto";'
NAMESPACE = "kafka://broker-1:9092"


def avro_customer() -> ParsedSchema:
    address = record(field("country", "string", doc="ISO 3166"), name="Address")
    return avro_record(
        field("id", "long"),
        field("email", ["null", "string"], **{"confluent:tags": ["PII.email", "GDPR"]}),
        field("address", address),
    )


def event_of(schema: ParsedSchema) -> dict[str, Any]:
    registered = RegisteredVersion("crm.customers-value", 3, 41, "1.2.0", "crm.customers.v1", schema)
    data: dict[str, Any] = json.loads(Serde.to_json(version_event(registered, namespace=NAMESPACE)))
    return data


SCHEMAS: dict[str, Callable[[], ParsedSchema]] = {
    "avro": avro_customer,
    "protobuf": lambda: proto_message(
        'int64 id = 1; string email = 2 [(confluent.field_meta).tags = "PII.email"];', extra=META
    ),
    "json": lambda: json_schema(
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string", "confluent:tags": ["PII.email"]},
            },
        }
    ),
}


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_a_registered_version_event_validates_against_the_spec(kind: str) -> None:
    data = event_of(SCHEMAS[kind]())
    validate_event(data)
    [output] = data["outputs"]
    assert (output["namespace"], output["name"]) == (NAMESPACE, "crm.customers.v1")
    assert [f["name"] for f in output["facets"]["schema"]["fields"]][:2] == ["id", "email"]
    assert {"key": "PII.email", "value": "true", "field": "email", "source": "spine-registry"} in output[
        "facets"
    ]["tags"]["tags"]


def test_the_event_carries_the_governance_facet_and_the_semver_as_dataset_version() -> None:
    data = event_of(avro_customer())
    facets = data["outputs"][0]["facets"]
    governance = {k: v for k, v in facets[GOVERNANCE_FACET].items() if not k.startswith("_")}
    assert governance == {
        "subject": "crm.customers-value",
        "version": 3,
        "schema_id": 41,
        "semver": "1.2.0",
        "governed_topic": "crm.customers.v1",
        "schema_type": "AVRO",
    }
    assert facets["version"]["datasetVersion"] == "1.2.0"
    assert data["eventType"] == "COMPLETE"
    assert data["job"]["name"] == "registry.register.crm.customers-value"


def test_every_tag_of_every_field_is_its_own_entry() -> None:
    tags = event_of(avro_customer())["outputs"][0]["facets"]["tags"]["tags"]
    assert [(t["field"], t["key"]) for t in tags] == [("email", "PII.email"), ("email", "GDPR")]


def test_nested_fields_keep_their_types_and_docs() -> None:
    assert list(columns(avro_customer())) == [
        ("id", "long", None),
        ("email", "null|string", None),
        ("address", "com.example.Address", None),
        ("address.country", "string", "ISO 3166"),
    ]
    address = event_of(avro_customer())["outputs"][0]["facets"]["schema"]["fields"][2]
    assert address["fields"][0]["name"] == "country"
