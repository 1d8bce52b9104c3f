from __future__ import annotations

import copy
from typing import Any

import pytest

from lineage import validate
from lineage.errors import LineageErrorCode, Problem
from lineage.validate import json_path
from tests.unit.lineage.events import dataset, facet, run_event, schema_facet, tags_facet


def validate_event(event: Any) -> list[Problem]:
    """``lineage.validate.validate_event``, checked against the Python validators alone: the fast
    jsonschema-rs pass must give the same verdict as they do."""
    problems = validate.validate_event(event)
    if isinstance(event, dict):
        full = validate.full_problems(event)
        assert problems == full
        assert validate._spec().is_valid(event) == (full == [])
    return problems


def _event() -> dict[str, Any]:
    return run_event(
        "orders.enrich",
        inputs=[dataset("kafka://spine", "sales.orders.v1", schema=schema_facet("id", "email"))],
        outputs=[dataset("kafka://spine", "sales.enriched.v1", tags=tags_facet(("PII.email", "email")))],
    )


def test_a_complete_run_event_with_standard_facets_is_valid() -> None:
    assert validate_event(_event()) == []


def test_dataset_and_job_events_are_valid() -> None:
    event = _event()
    dataset_event = {k: event[k] for k in ("eventTime", "producer", "schemaURL")}
    dataset_event["dataset"] = dataset("kafka://spine", "sales.orders.v1", schema=schema_facet("id"))
    assert validate_event(dataset_event) == []
    job_event = {k: event[k] for k in ("eventTime", "producer", "schemaURL", "job", "inputs", "outputs")}
    assert validate_event(job_event) == []


def test_unknown_event_type_is_named_with_its_path() -> None:
    event = _event()
    event["eventType"] = "FINISHED"
    [problem] = validate_event(event)
    assert problem.path == "$.eventType"
    assert problem.code is LineageErrorCode.UNKNOWN_EVENT_TYPE
    assert "FINISHED" in problem.message


def test_missing_run_id_is_a_missing_field_at_run_run_id() -> None:
    event = _event()
    del event["run"]["runId"]
    [problem] = validate_event(event)
    assert (problem.path, problem.code) == ("$.run.runId", LineageErrorCode.MISSING_FIELD)


def test_run_id_must_be_a_uuid_and_event_time_a_date_time() -> None:
    event = _event()
    event["run"]["runId"] = "not-a-uuid"
    event["eventTime"] = "yesterday"
    paths = [p.path for p in validate_event(event)]
    assert paths == ["$.eventTime", "$.run.runId"]


def test_a_facet_failing_its_schema_is_an_invalid_facet_at_its_path() -> None:
    event = _event()
    event["inputs"][0]["facets"]["schema"]["fields"] = [{"type": "string"}]
    [problem] = validate_event(event)
    assert problem.code is LineageErrorCode.INVALID_FACET
    assert problem.path == "$.inputs[0].facets.schema.fields[0].name"
    assert "SchemaDatasetFacet" in problem.message


def test_a_standard_facet_key_is_checked_even_with_an_unfamiliar_schema_url() -> None:
    event = _event()
    bad = facet("Whatever", tags=[{"value": "x"}])
    event["outputs"][0]["facets"]["tags"] = bad
    [problem] = validate_event(event)
    assert problem.path == "$.outputs[0].facets.tags.tags[0].key"


def test_facets_nobody_here_defines_need_only_the_base_facet_fields() -> None:
    event = _event()
    event["run"]["facets"]["acme_quality"] = {
        "_producer": "https://example.com",
        "_schemaURL": "https://example.com/acme/QualityRunFacet.json",
        "score": 3,
    }
    assert validate_event(event) == []
    del event["run"]["facets"]["acme_quality"]["_producer"]
    [problem] = validate_event(event)
    assert problem.path == "$.run.facets.acme_quality._producer"


def test_the_spines_own_facets_are_checked_against_their_shipped_schemas() -> None:
    event = _event()
    event["run"]["facets"]["spine_residency"] = {
        "_producer": "https://example.com",
        "_schemaURL": "https://example.com/spine/ResidencyRunFacet.json",
        "decision": "allow",
    }
    problems = validate_event(event)
    assert [p.path for p in problems] == ["$.run.facets.spine_residency.decisions"]
    assert "SpineResidencyRunFacet" in problems[0].message


def test_not_an_object_and_missing_everything() -> None:
    assert [p.path for p in validate_event([1])] == ["$"]
    paths = {p.path for p in validate_event({})}
    assert {"$.eventTime", "$.producer", "$.schemaURL", "$.run", "$.job"} <= paths


def test_problems_do_not_change_the_event() -> None:
    event = _event()
    event["eventType"] = 3
    before = copy.deepcopy(event)
    validate_event(event)
    assert event == before


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    assert json_path(["inputs", 0, "facets", "my-facet"]) == '$.inputs[0].facets["my-facet"]'


def _spine_facets_event() -> dict[str, Any]:
    event = _event()
    event["run"]["facets"]["spine_residency"] = {
        "_producer": "https://example.com",
        "_schemaURL": "https://example.com/spine/SpineResidencyRunFacet.json",
        "decisions": [
            {
                "decision_id": "d-1",
                "outcome": "allow_with_redaction",
                "dataset": "sales.orders",
                "source_region": "eu-west",
                "destination_region": None,
                "redacted_fields": [{"field": "email", "action": "mask"}],
                "policy_version": "3",
            }
        ],
    }
    event["outputs"][0]["facets"]["columnLineage"] = facet(
        "ColumnLineageDatasetFacet",
        fields={"email": {"inputFields": [{"namespace": "kafka://spine", "name": "in", "field": "email"}]}},
    )
    return event


def _mutations(value: Any, path: tuple[Any, ...] = ()) -> Any:
    """(path, replacement or None for "delete") for every place in ``value``: each key deleted and each
    value replaced by values of other JSON types and by strings that break formats."""
    replacements: list[Any] = [None, 7, 1.5, True, "x", "not-a-uuid", "2026-11-01", [], {}, [1], {"a": 1}]
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), "<delete>"
            for other in replacements:
                if other != item:
                    yield (*path, key), other
            yield from _mutations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _mutations(item, (*path, index))


def _apply(event: dict[str, Any], path: tuple[Any, ...], replacement: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    if replacement == "<delete>":
        del target[path[-1]]
    else:
        target[path[-1]] = replacement
    return out


@pytest.mark.parametrize("build", [_event, _spine_facets_event])
def test_the_fast_pass_agrees_with_the_python_validators_on_every_mutation(build: Any) -> None:
    event = build()
    assert validate_event(event) == []
    checked = invalid = 0
    for path, replacement in _mutations(event):
        mutated = _apply(event, path, replacement)
        if validate_event(mutated):
            invalid += 1
        checked += 1
    assert checked > 300
    assert invalid > checked // 3  # the mutations really exercise rejections, not only acceptances
