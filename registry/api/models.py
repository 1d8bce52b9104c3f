"""Request bodies of both APIs (pydantic), shaped like Confluent's where Confluent defines them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.contracts import canonical
from registry.service import SchemaInput
from registry.storage import Reference


class ReferenceBody(BaseModel):
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00]+$")
    subject: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")
    version: int = Field(ge=1, le=2**31 - 1)


class MetadataBody(BaseModel):
    """Confluent's schema metadata: tags by path, string properties, sensitive names."""

    model_config = ConfigDict(extra="forbid")

    tags: dict[str, list[str]] | None = None
    properties: dict[str, str] | None = None
    sensitive: list[str] | None = None


class RuleBody(BaseModel):
    """One data-contract rule; the registry stores rules, clients run them."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=255)
    kind: str | None = Field(default=None, max_length=32)
    mode: str | None = Field(default=None, max_length=32)
    type: str | None = Field(default=None, max_length=255)


class RuleSetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    migrationRules: list[RuleBody] | None = None  # noqa: N815 - Confluent's field names
    domainRules: list[RuleBody] | None = None  # noqa: N815
    encodingRules: list[RuleBody] | None = None  # noqa: N815
    enableAt: str | None = None  # noqa: N815


class SchemaFields(BaseModel):
    """A schema as both APIs take it: text, type and references; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_: str = Field(alias="schema", max_length=1024 * 1024)
    schemaType: str | None = Field(default=None, max_length=32)  # noqa: N815 - Confluent's field name
    references: list[ReferenceBody] = Field(default_factory=list, max_length=1000)

    def to_input(self) -> SchemaInput:
        return SchemaInput(
            schema=self.schema_,
            schema_type=self.schemaType,
            references=tuple(Reference(r.name, r.subject, r.version) for r in self.references),
        )


class SchemaBody(SchemaFields):
    """Confluent's register/lookup/compatibility body, with the ``id`` and ``version`` IMPORT mode keeps."""

    id: int | None = Field(default=None, ge=-1, le=2**31 - 1, description="IMPORT mode: the id to keep")
    version: int | None = Field(default=None, ge=-1, le=2**31 - 1, description="IMPORT mode: the version")
    metadata: MetadataBody | None = None
    ruleSet: RuleSetBody | None = None  # noqa: N815 - Confluent's field name

    def to_input(self) -> SchemaInput:
        # Confluent's clients send -1 (id) or 0 (version) for "none".
        return replace(
            super().to_input(),
            schema_id=self.id if self.id is not None and self.id >= 0 else None,
            version=self.version if self.version is not None and self.version > 0 else None,
            metadata=canonical(self.metadata.model_dump(exclude_none=True)) if self.metadata else None,
            rule_set=canonical(self.ruleSet.model_dump(exclude_none=True)) if self.ruleSet else None,
        )


class PublishBody(SchemaFields):
    """The spine API's publish body: a schema plus the declared semantic version."""

    version: str | None = Field(default=None, max_length=64, description="Declared semantic version X.Y.Z")
    dryRun: bool = False  # noqa: N815 - matches the JSON field


class ConfigBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    compatibility: str | None = Field(default=None, max_length=64)
    compatibilityLevel: str | None = Field(default=None, max_length=64)  # noqa: N815
    compatibilityGroup: str | None = Field(default=None, max_length=255)  # noqa: N815

    def level(self) -> str:
        return self.compatibility or self.compatibilityLevel or ""


class ModeBody(BaseModel):
    mode: str = Field(max_length=64)


class RollbackBody(BaseModel):
    to: int = Field(ge=1, le=2**31 - 1, description="The version whose schema becomes the new latest")
    version: str | None = Field(default=None, max_length=64, description="Declared semantic version")


class LintConfigBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    def as_mapping(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
