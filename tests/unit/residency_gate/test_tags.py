"""Field tags from the registry: schema-naming routes, the registry's answer, merging, failing closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from residency_gate.errors import RouteError
from residency_gate.evaluate import FieldTag, Outcome, Route, SchemaRef, deny, evaluate
from residency_gate.policy import Policy, load_policy_file
from residency_gate.tags import (
    SchemaTags,
    TagLookupError,
    apply_schema,
    merge_fields,
    parse_tags_answer,
    resolve_routes,
)
from residency_gate.wire import decision_to_dict, route_from_dict, route_to_dict

MATRIX = Path(__file__).parents[3] / "examples" / "residency" / "matrix.yaml"
REF = SchemaRef("crm.customers-value", 3)
EMAIL = FieldTag("email", ("PII.email",))
PHONE = FieldTag("phone", ("PII.phone",))


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_file(MATRIX)


def answer(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "crm.customers-value",
        "version": 3,
        "id": 7,
        "fields": [{"path": "email", "tags": ["PII.email"]}, {"path": "address.zip", "tags": ["PII"]}],
    }
    body.update(changes)
    return body


# --- routes naming a schema -----------------------------------------------------------------------------


def test_route_from_dict_reads_a_schema_with_a_numbered_version() -> None:
    route = route_from_dict(
        {"dataset": "crm.customers", "sink": "analytics-us", "schema": {"subject": REF.subject, "version": 3}}
    )
    assert route.schema == REF
    assert route.fields == ()


def test_route_schema_version_defaults_to_latest() -> None:
    route = route_from_dict({"dataset": "d", "sink": "s", "schema": {"subject": "x-value"}})
    assert route.schema == SchemaRef("x-value", "latest")


def test_route_with_schema_round_trips_through_its_dict() -> None:
    route = Route("crm.customers", sink="fraud-us", fields=(EMAIL,), schema=SchemaRef("s", "latest"))
    data = route_to_dict(route)
    assert data["schema"] == {"subject": "s", "version": "latest"}
    assert route_from_dict(data) == route


def test_route_without_schema_has_no_schema_key() -> None:
    assert "schema" not in route_to_dict(Route("d", sink="s"))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("crm.customers-value", "route field 'schema' must be an object"),
        ({"version": 3}, "route field 'schema.subject' is required"),
        ({"subject": ""}, "route field 'schema.subject' must be a non-empty string"),
        ({"subject": "s" * 256}, "route field 'schema.subject' is too long"),
        ({"subject": "a\nb"}, "'schema.subject' must be 1 to 255 printable characters"),
        ({"subject": "s", "version": 0}, "'schema.version' must be 'latest' or a version number"),
        ({"subject": "s", "version": "3"}, "'schema.version' must be 'latest' or a version number"),
        ({"subject": "s", "version": True}, "'schema.version' must be 'latest' or a version number"),
        ({"subject": "s", "version": 2**31}, "'schema.version' must be 'latest' or a version number"),
        ({"subject": "s", "id": -1}, "route field 'schema.id'"),
        ({"subject": "s", "id": "4"}, "route field 'schema.id'"),
        ({"subject": "s", "id": True}, "route field 'schema.id'"),
    ],
)
def test_route_from_dict_refuses_a_malformed_schema(schema: Any, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        route_from_dict({"dataset": "d", "sink": "s", "schema": schema})


# --- the registry's answer ------------------------------------------------------------------------------


def test_parse_tags_answer_refuses_another_schema_id_than_the_route_states() -> None:
    assert parse_tags_answer(answer(), SchemaRef(REF.subject, 3, answer()["id"])).id == answer()["id"]
    stated = SchemaRef(REF.subject, 3, answer()["id"] + 1)
    with pytest.raises(TagLookupError, match=f"version 3 is schema id {answer()['id']}, not {stated.id}"):
        parse_tags_answer(answer(), stated)


def test_route_schema_id_is_recorded_only_when_stated() -> None:
    stated = Route("d", sink="s", schema=SchemaRef("s", 2, 9))
    assert route_to_dict(stated)["schema"] == {"subject": "s", "version": 2, "id": 9}
    assert route_from_dict(route_to_dict(stated)) == stated
    assert route_to_dict(Route("d", sink="s", schema=SchemaRef("s", 2)))["schema"] == {
        "subject": "s",
        "version": 2,
    }


def test_parse_tags_answer_builds_field_tags_by_path() -> None:
    tags = parse_tags_answer(answer(), REF)
    assert tags == SchemaTags("crm.customers-value", 3, 7, (EMAIL, FieldTag("address.zip", ("PII",))))


def test_parse_tags_answer_for_latest_takes_the_version_number_answered() -> None:
    assert parse_tags_answer(answer(version=9), SchemaRef(REF.subject, "latest")).version == 9


def test_parse_tags_answer_joins_tags_of_a_path_listed_twice() -> None:
    fields = [{"path": "email", "tags": ["PII.email"]}, {"path": "email", "tags": ["PII", "PII.email"]}]
    assert parse_tags_answer(answer(fields=fields), REF).fields == (FieldTag("email", ("PII.email", "PII")),)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "not a JSON object"),
        (answer(subject="other-value"), "it is about subject 'other-value'"),
        (answer(version=4), "it is about version 4"),
        (answer(version="3"), "version '3' is not a version number"),
        (answer(version=0), "version 0 is not a version number"),
        (answer(id=None), "id None is not a schema id"),
        (answer(fields={"email": ["PII"]}), "'fields' is not a list"),
        (answer(fields=[{"path": "", "tags": []}]), r"fields\[0\].path is not a non-empty string"),
        (answer(fields=[{"path": "email", "tags": "PII"}]), r"fields\[0\].tags is not a list of tags"),
        (answer(fields=[{"path": "email", "tags": [""]}]), r"fields\[0\].tags is not a list of tags"),
    ],
)
def test_parse_tags_answer_refuses_a_bad_answer_naming_the_schema(body: Any, problem: str) -> None:
    with pytest.raises(TagLookupError, match=problem) as caught:
        parse_tags_answer(body, REF)
    assert str(caught.value).startswith(
        "field tags of schema crm.customers-value version 3 unavailable: bad registry answer: "
    )


# --- merging --------------------------------------------------------------------------------------------


def test_merge_keeps_schema_order_and_lets_a_route_add_tags_but_never_remove_them() -> None:
    schema = (EMAIL, PHONE, FieldTag("name", ("PII",)))
    explicit = (FieldTag("phone", ()), FieldTag("name", ("PII.email",)), FieldTag("note", ("INTERNAL",)))
    assert merge_fields(schema, explicit) == (
        EMAIL,
        PHONE,
        FieldTag("name", ("PII", "PII.email")),
        FieldTag("note", ("INTERNAL",)),
    )


def test_a_route_cannot_replace_a_registry_tag_with_a_weaker_one() -> None:
    assert merge_fields((EMAIL,), (FieldTag("email", ("PUBLIC",)),)) == (
        FieldTag("email", ("PII.email", "PUBLIC")),
    )


def test_merge_without_explicit_fields_is_the_schema_fields() -> None:
    assert merge_fields((EMAIL, PHONE), ()) == (EMAIL, PHONE)


def test_apply_schema_merges_fields_and_pins_the_version_and_schema_id_used() -> None:
    route = Route("crm.customers", sink="fraud-us", fields=(PHONE,), schema=SchemaRef(REF.subject, "latest"))
    resolved = apply_schema(route, SchemaTags(REF.subject, 5, 11, (EMAIL,)))
    assert resolved.fields == (EMAIL, PHONE)
    assert resolved.schema == SchemaRef(REF.subject, 5, 11)
    assert (resolved.dataset, resolved.sink) == ("crm.customers", "fraud-us")


# --- resolving a batch ----------------------------------------------------------------------------------


class CountingLookup:
    """A registry stand-in that answers from a table and counts what it was asked."""

    def __init__(self, table: dict[SchemaRef, SchemaTags]) -> None:
        self.table = table
        self.asked: list[SchemaRef] = []

    def __call__(self, ref: SchemaRef) -> SchemaTags:
        self.asked.append(ref)
        if ref not in self.table:
            raise TagLookupError(ref, "not found in the registry (Subject not found)")
        return self.table[ref]


def test_resolve_routes_asks_once_per_distinct_schema_version() -> None:
    latest = SchemaRef(REF.subject, "latest")
    lookup = CountingLookup(
        {REF: SchemaTags(REF.subject, 3, 7, (EMAIL,)), latest: SchemaTags(REF.subject, 4, 8, ())}
    )
    routes = [
        Route("crm.customers", sink=sink, schema=ref) for sink in ("a", "b", "c") for ref in (REF, latest)
    ]
    resolved = resolve_routes(routes, lookup)
    assert sorted(lookup.asked, key=str) == [REF, latest]
    assert [r.denial for r in resolved] == [None] * 6
    assert [r.route.schema for r in resolved] == [
        SchemaRef(REF.subject, 3, 7),
        SchemaRef(REF.subject, 4, 8),
    ] * 3


def test_resolve_routes_denies_only_the_routes_whose_schema_failed() -> None:
    missing = SchemaRef("nope-value", 1)
    lookup = CountingLookup({REF: SchemaTags(REF.subject, 3, 7, (EMAIL,))})
    plain = Route("crm.customers", sink="a")
    resolved = resolve_routes(
        [Route("crm.customers", sink="a", schema=missing), plain, Route("d", sink="b", schema=REF)], lookup
    )
    assert resolved[0].denial == (
        "field tags of schema nope-value version 1 unavailable: not found in the registry (Subject not found)"
    )
    assert resolved[0].route.schema == missing
    assert resolved[1].route is plain
    assert resolved[1].denial is None
    assert resolved[2].route.fields == (EMAIL,)


def test_resolve_routes_without_a_registry_denies_routes_naming_a_schema() -> None:
    [resolved] = resolve_routes([Route("d", sink="s", schema=REF)], None)
    assert resolved.denial is not None
    assert resolved.denial.endswith("no schema registry is configured")


# --- evaluation of resolved routes ----------------------------------------------------------------------


def test_schema_tag_drives_redaction_of_exactly_that_field(policy: Policy) -> None:
    route = Route("sales.orders", sink="analytics-us", schema=SchemaRef("sales.orders-value", 2))
    tags = SchemaTags("sales.orders-value", 2, 1, (FieldTag("customer_email", ("PII.email",)),))
    decision = evaluate(policy, apply_schema(route, tags))
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert [(r.field, r.action) for r in decision.redactions] == [("customer_email", "drop")]
    schema = {"subject": "sales.orders-value", "version": 2, "id": 1}
    assert decision_to_dict(decision)["route"]["schema"] == schema


def test_deny_names_the_route_and_resolves_what_the_matrix_knows(policy: Policy) -> None:
    route = Route("crm.customers", sink="fraud-us", schema=REF)
    decision = deny(policy, route, "field tags unavailable", decision_id="d-1")
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == ("field tags unavailable",)
    assert (decision.classification, decision.source_region, decision.destination_region) == (
        "PII",
        "eu-west",
        "us-east",
    )
    assert decision.policy_hash == policy.hash
