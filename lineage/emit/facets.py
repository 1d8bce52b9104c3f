"""The spine's custom OpenLineage facets and builders for the standard facets every emitter shares.

Custom facets exist only where no standard one fits; each names its JSON Schema (shipped in
``schemas/lineage/``) in ``_schemaURL``. Policy tags travel in the standard ``tags`` dataset facet, so a tag
sent by any OpenLineage producer filters the same way as one sent by the spine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attr
from openlineage.client.facet_v2 import DatasetFacet, RunFacet, schema_dataset, tags_dataset

import spine

SCHEMA_BASE_URL = "https://data-spine.dev/spec/facets/1-0-0"
PRODUCER_BASE_URL = "https://data-spine.dev/producer"

RESIDENCY_FACET = "spine_residency"
GOVERNANCE_FACET = "spine_governance"


def producer_uri(component: str) -> str:
    """The ``producer`` / ``_producer`` URI of one spine component, e.g. ``.../registry/0.1.0``."""
    return f"{PRODUCER_BASE_URL}/{component}/{spine.__version__}"


def schema_url(facet_class: str) -> str:
    """Where a custom facet's JSON Schema lives (its ``$id``) with the pointer to its definition."""
    return f"{SCHEMA_BASE_URL}/{facet_class}.json#/$defs/{facet_class}"


@attr.define
class RedactedField:
    field: str
    action: str


@attr.define
class ResidencyDecision:
    """One evaluated route: the gate's decision id, outcome, regions, sink, redactions and policy."""

    decision_id: str
    outcome: str
    dataset: str
    source_region: str | None
    destination_region: str | None
    sink: str | None
    redacted_fields: list[RedactedField]
    policy_version: str
    policy_hash: str | None = None


@attr.define
class SpineResidencyRunFacet(RunFacet):
    """``spine_residency``: what the residency gate decided for each route a run asked about."""

    decisions: list[ResidencyDecision] = attr.field(factory=list)
    _additional_skip_redact: ClassVar[list[str]] = ["decisions"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("SpineResidencyRunFacet")


@attr.define
class SpineGovernanceDatasetFacet(DatasetFacet):
    """``spine_governance``: the registry subject version that governs a topic."""

    subject: str
    schema_id: int
    semver: str
    governed_topic: str
    version: int | None = None
    schema_type: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return schema_url("SpineGovernanceDatasetFacet")


def tags_facet(
    field_tags: Iterable[tuple[str | None, str]], *, source: str, producer: str
) -> tags_dataset.TagsDatasetFacet:
    """The standard ``tags`` facet: one entry per (field, tag), ``key`` the tag, ``value`` ``"true"``.

    ``field`` None tags the whole dataset. Repeated pairs are sent once, in first-seen order.
    """
    entries = [
        tags_dataset.TagsDatasetFacetFields(key=tag, value="true", source=source, field=field)
        for field, tag in dict.fromkeys(field_tags)
    ]
    return tags_dataset.TagsDatasetFacet(tags=entries, producer=producer)


SchemaField = schema_dataset.SchemaDatasetFacetFields


def schema_facet(
    columns: Iterable[tuple[str, str | None, str | None]], *, producer: str
) -> schema_dataset.SchemaDatasetFacet:
    """The standard ``schema`` facet from ``(dotted path, type, description)``, nesting by path.

    A parent must come before its children (a depth-first walk gives that order); a child whose parent is
    missing is kept at the top level under its full path.
    """
    top: list[SchemaField] = []
    by_path: dict[str, SchemaField] = {}
    for path, kind, description in columns:
        parent_path, _, name = path.rpartition(".")
        parent = by_path.get(parent_path) if parent_path else None
        siblings = top if parent is None else _children(parent)
        item = SchemaField(
            name=name if parent is not None else path,
            type=kind,
            description=description,
            ordinal_position=len(siblings) + 1,
        )
        siblings.append(item)
        by_path[path] = item
    return schema_dataset.SchemaDatasetFacet(fields=top, producer=producer)


def _children(parent: SchemaField) -> list[SchemaField]:
    if parent.fields is None:
        parent.fields = []
    return parent.fields


__all__ = [
    "GOVERNANCE_FACET",
    "PRODUCER_BASE_URL",
    "RESIDENCY_FACET",
    "SCHEMA_BASE_URL",
    "RedactedField",
    "ResidencyDecision",
    "SchemaField",
    "SpineGovernanceDatasetFacet",
    "SpineResidencyRunFacet",
    "producer_uri",
    "schema_facet",
    "schema_url",
    "tags_facet",
]
