"""The registry's use cases: register (Confluent and semver-gated, IMPORT mode), look up and check.

It joins the pure checks (parsing, compatibility, semver, lint, modes, data contracts) to storage, and
writes a schema event to the outbox in the same transaction as every change. Reads live in
:mod:`registry.service_reads`, deletes in :mod:`registry.service_lifecycle`, configuration and mode in
:mod:`registry.service_config`, result types in :mod:`registry.service_model`. It knows nothing about HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from registry import contracts
from registry.classification import Declassification, declassifications, field_classes, lost_tags
from registry.compatibility import CompatibilityLevel, CompatibilityResult, check_compatibility
from registry.errors import (
    AuditUnavailableError,
    DeclassificationForbiddenError,
    GateRefusedError,
    IncompatibleSchemaError,
    InvalidSchemaError,
    LintRefusedError,
    OperationNotPermittedError,
    Problem,
    SchemaNotFoundError,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from registry.gate_audit import DeclassificationNotice
from registry.lineage import RegisteredVersion, RegistryLineage
from registry.lint import LintConfig, LintFinding, lint_schema
from registry.modes import register_refusal
from registry.schemas import ParsedSchema
from registry.semver import (
    ChangeAssessment,
    ChangeClass,
    SemVer,
    assess_change,
    classify,
    confluent_version,
    gate_version,
    needs_transitive_check,
)
from registry.service_config import SubjectSettings, record_event
from registry.service_lifecycle import LifecycleOperations
from registry.service_model import (
    Actor as Actor,
)
from registry.service_model import (
    Appended,
    Group,
    checked_topic,
    finding_dicts,
    fingerprint_of,
    gate_refusal,
    group_of,
    incompatibility_problems,
    lint_problems,
)
from registry.service_model import (
    PublishResult as PublishResult,
)
from registry.service_model import (
    Registered as Registered,
)
from registry.service_model import (
    governed_topic as governed_topic,
)
from registry.service_reads import SchemaInput as SchemaInput
from registry.storage import Database, Reference, StoredSchema, VersionRow
from registry.storage import repository as repo
from registry.storage.cache import IdCache

logger = logging.getLogger(__name__)

EVENTS_TOPIC = "_spine.schemas"

AuditCall = Callable[[DeclassificationNotice, str], None]


class RegistryService(LifecycleOperations):
    """Every use case of the registry over one database."""

    def __init__(
        self,
        db: Database,
        *,
        events_topic: str = EVENTS_TOPIC,
        audit: AuditCall | None = None,
        lineage: RegistryLineage | None = None,
    ) -> None:
        """``lineage`` None emits no lineage events (the app always passes one)."""
        self.db = db
        self.events_topic = events_topic
        self._audit = audit
        self._lineage = lineage
        self._schemas: IdCache[StoredSchema | None] = IdCache()
        self._parsed: IdCache[ParsedSchema] = IdCache()
        # Called with a subject after a change to its versions committed (the read cache forgets it).
        self.on_change: Callable[[str], None] = lambda subject: None

    def _remember(self, appended: Appended) -> None:
        """After a commit: cache a schema this process inserted, so the next check need not reload it."""
        if appended.stored is not None:
            self._schemas.get_or_load(appended.stored.id, lambda: appended.stored)
            self._parsed.get_or_load(appended.stored.id, lambda: appended.parsed)

    def _lint(
        self, conn: Connection, subject: str, schema: ParsedSchema, config: LintConfig
    ) -> list[LintFinding]:
        latest = repo.latest_version(conn, subject)
        previous = self.parsed(conn, latest.schema_id) if latest is not None else None
        findings = list(lint_schema(schema, config, previous))
        problems = lint_problems(findings)
        if problems:
            raise LintRefusedError(
                f"Schema for subject {subject!r} breaks {len(problems)} lint rule(s) of severity error",
                problems,
            )
        return findings

    def _compare_with(
        self,
        conn: Connection,
        level: CompatibilityLevel,
        subject: str,
        latest: VersionRow | None,
        group: Group | None = None,
    ) -> list[ParsedSchema]:
        if level is CompatibilityLevel.NONE or latest is None:
            return []
        if group is not None:
            # Confluent's compatibilityGroup: only versions with the same value of the property count.
            name, value = group
            ids = [
                schema_id
                for schema_id in repo.live_schema_ids(conn, subject)
                if contracts.group_value(self.stored(conn, schema_id).metadata, name) == value
            ]
            ids = ids if level.transitive else ids[-1:]
            return [self.parsed(conn, schema_id) for schema_id in dict.fromkeys(ids)]
        if not level.transitive:
            return [self.parsed(conn, latest.schema_id)]
        # Versions that differ only in docs and tags check alike: compare each structure once, oldest first.
        distinct: dict[tuple[str, str, tuple[Reference, ...]], ParsedSchema] = {}
        for schema_id in dict.fromkeys(repo.live_schema_ids(conn, subject)):
            parsed = self.parsed(conn, schema_id)
            key = (
                parsed.schema_type.value,
                parsed.canonical_without_docs(),
                self.stored(conn, schema_id).references,
            )
            distinct.setdefault(key, parsed)
        return list(distinct.values())

    def check(
        self,
        conn: Connection,
        subject: str,
        new: ParsedSchema,
        level: CompatibilityLevel | None = None,
        latest: VersionRow | None = None,
        group: Group | None = None,
    ) -> CompatibilityResult:
        level = level or self.level(conn, subject)
        latest = latest or repo.latest_version(conn, subject)
        return check_compatibility(level, new, self._compare_with(conn, level, subject, latest, group))

    def _assess(
        self, conn: Connection, level: CompatibilityLevel, new: ParsedSchema, latest: VersionRow | None
    ) -> ChangeAssessment:
        old = self.parsed(conn, latest.schema_id) if latest is not None else None
        return assess_change(old, new, level)

    def _highest(self, conn: Connection, subject: str) -> SemVer | None:
        mark = repo.semver_mark(conn, subject)
        return SemVer.parse(mark) if mark is not None else None

    def _classify(
        self,
        conn: Connection,
        level: CompatibilityLevel,
        new: ParsedSchema,
        reference: VersionRow | None,
        previous: SemVer | None,
    ) -> ChangeAssessment:
        old = self.parsed(conn, reference.schema_id) if reference is not None else None
        return classify(old, new, level, previous)

    def _declassified(
        self,
        conn: Connection,
        subject: str,
        new: ParsedSchema,
        reference: VersionRow | None,
        actor: Actor | None,
    ) -> list[Declassification]:
        """Fields ``new`` declassifies against the newest version issued and against the tags each field last
        carried in any version (which outlive deletes, so a field dropped in one version and brought back
        untagged in a later one, or republished after a permanent delete, is caught); refused unless
        ``actor`` may declassify."""
        remembered = lost_tags(repo.remembered_classes(conn, subject), new)
        if reference is not None:
            found = declassifications(self.parsed(conn, reference.schema_id), new)
            seen = {(d.field, d.now) for d in found}
            found += [d for d in remembered if (d.field, d.now) not in seen]
            against = ""
        else:
            found = remembered
            against = " its permanently deleted versions carried"
        if found and (actor is None or not actor.may_declassify):
            listed = "; ".join(str(d) for d in found)
            raise DeclassificationForbiddenError(
                f"Schema for subject {subject!r} removes or weakens classification tags{against} ({listed}); "
                "a declassification needs the security or admin role",
                [Problem(d.field, str(d), "declassification") for d in found],
            )
        return found

    def _audit_declassification(
        self, appended: Appended, found: Sequence[Declassification], actor: Actor | None
    ) -> None:
        """Record an accepted declassification in the residency audit log before the version commits."""
        if not found:
            return
        registered = appended.registered
        if self._audit is None or actor is None:
            raise AuditUnavailableError(
                f"declassification of {registered.subject!r} not published: no residency gate is configured "
                "to audit it (set SPINE_REGISTRY_RESIDENCY_URL)"
            )
        notice = DeclassificationNotice(
            registered.subject, registered.version, registered.semver, registered.schema_id, found
        )
        self._audit(notice, actor.authorization)
        logger.info(
            "declassification of %s version %d audited for %s",
            registered.subject,
            registered.version,
            actor.name,
        )

    def _event(self, conn: Connection, kind: str, subject: str, **fields: Any) -> None:
        record_event(conn, self.events_topic, kind, subject, **fields)

    def _append(
        self,
        conn: Connection,
        subject: str,
        schema: ParsedSchema,
        item: SchemaInput,
        semver: SemVer,
        change: ChangeClass | None,
        *,
        fp: str | None = None,
        new_id: int | None = None,
        existing_id: int | None = None,
    ) -> Appended:
        """``new_id``: insert the schema under this (free) id; ``existing_id``: the schema row is there
        already under this id (both as IMPORT mode does)."""
        schema_type = schema.schema_type.value
        if existing_id is not None:
            schema_id, created = existing_id, False
        else:
            schema_id, created = repo.add_schema(
                conn,
                schema_type,
                schema.canonical(),
                schema.raw,
                item.references,
                fp=fp,
                schema_id=new_id,
                metadata=item.metadata,
                rule_set=item.rule_set,
            )
        stored = None
        if created:
            stored = StoredSchema(
                schema_id,
                schema_type,
                schema.canonical(),
                schema.raw,
                item.references,
                item.metadata,
                item.rule_set,
            )
        number = repo.add_version(conn, subject, schema_id, str(semver), number=item.version)
        known = repo.remembered_classes(conn, subject)
        repo.remember_classes(conn, subject, known, field_classes(schema, untagged=True))
        highest = self._highest(conn, subject)
        if highest is None or semver > highest:
            repo.set_semver_mark(conn, subject, str(semver))
        self._event(
            conn,
            "REGISTERED",
            subject,
            version=number,
            schema_id=schema_id,
            semver=str(semver),
            schema_type=schema.schema_type.value,
            change=change.value if change is not None else None,
        )
        if self._lineage is not None:
            topic = governed_topic(subject, semver.major)
            self._lineage.registered(
                conn, RegisteredVersion(subject, number, schema_id, str(semver), topic, schema)
            )
        return Appended(Registered(subject, number, schema_id, str(semver)), stored, schema)

    # -- registration ------------------------------------------------------------------------------

    def register(self, subject: str, item: SchemaInput, actor: Actor | None = None) -> Registered:
        """Confluent semantics: reuse an existing version, else check the level (409) and append; in IMPORT
        mode keep the ``id`` and ``version`` sent and skip the check."""
        schema = self.parse(None, item)
        with self.db.write() as conn:
            repo.lock_subject(conn, subject)
            settings = self.settings(conn, subject)
            refused = register_refusal(subject, settings.mode, explicit_id=item.schema_id is not None)
            if refused is not None:
                raise OperationNotPermittedError(refused)
            if item.schema_id is not None:
                imported = self._import(conn, subject, schema, item, fingerprint_of(schema, item), actor)
                if isinstance(imported, Registered):
                    return imported
                appended = imported
            else:
                item = self._with_contract(conn, subject, item)
                fp = fingerprint_of(schema, item)
                known = repo.schema_id_by_fingerprint(conn, fp)
                found = repo.version_with_schema(conn, subject, known) if known is not None else None
                pinned = contracts.pinned_version(item.metadata)
                if found is not None and (pinned is None or found.version == pinned):
                    return Registered(subject, found.version, found.schema_id, found.semver)
                if pinned is not None:
                    # A new version records its own number in confluent:version.
                    number = repo.next_version(conn, subject)
                    item = replace(item, metadata=contracts.with_version(item.metadata, number))
                    fp = fingerprint_of(schema, item)
                    known = repo.schema_id_by_fingerprint(conn, fp)
                if item.version is not None and item.version != repo.next_version(conn, subject):
                    # Outside IMPORT a version sent must be the next one (Confluent's register).
                    raise InvalidSchemaError("Version is not one more than previous version")
                appended = self._register_new(conn, subject, schema, item, settings, fp, known, actor)
            repo.record_change(conn, subject)
        self._remember(appended)
        self.on_change(subject)
        return appended.registered

    def _import(
        self,
        conn: Connection,
        subject: str,
        schema: ParsedSchema,
        item: SchemaInput,
        fp: str,
        actor: Actor | None,
    ) -> Appended | Registered:
        """Register under the id (and version) sent, without a compatibility check; answer the version
        already there when it holds that very schema (a re-run of an import). Refuses (42205) a different
        schema under an id or version that exists, as Confluent refuses to overwrite an id."""
        wanted = item.schema_id
        assert wanted is not None
        existing = repo.schema_by_id(conn, wanted)
        if existing is not None and fp != repo.fingerprint(
            existing.schema_type,
            existing.canonical,
            existing.references,
            existing.metadata,
            existing.rule_set,
        ):
            raise OperationNotPermittedError(f"Overwrite new schema with id {wanted} is not permitted.")
        known = repo.schema_id_by_fingerprint(conn, fp)
        # Confluent keeps a schema under every id it is imported with: a second row for the same text,
        # whose fingerprint the id makes unique (lookups by content find the first id).
        alias = repo.alias_fingerprint(fp, wanted) if known is not None and known != wanted else None
        if item.version is not None:
            row = repo.version(conn, subject, item.version)
            if row is not None and row.schema_id != wanted:
                raise OperationNotPermittedError(
                    f"Version {item.version} of subject {subject} already holds schema id {row.schema_id}"
                )
        else:
            row = repo.version_with_schema(conn, subject, wanted)
        if row is not None:
            return Registered(subject, row.version, row.schema_id, row.semver)
        latest = repo.latest_version(conn, subject, include_deleted=True)
        previous = self._highest(conn, subject)
        assessment = self._classify(conn, CompatibilityLevel.BACKWARD, schema, latest, previous)
        declassified = self._declassified(conn, subject, schema, latest, actor)
        appended = self._append(
            conn,
            subject,
            schema,
            item,
            confluent_version(previous, assessment),
            assessment.change,
            fp=alias if existing is None else None,
            new_id=wanted if existing is None else None,
            existing_id=wanted if existing is not None else None,
        )
        self._audit_declassification(appended, declassified, actor)
        return appended

    def _register_new(
        self,
        conn: Connection,
        subject: str,
        schema: ParsedSchema,
        item: SchemaInput,
        settings: SubjectSettings,
        fp: str,
        known: int | None,
        actor: Actor | None,
    ) -> Appended:
        self._lint(conn, subject, schema, settings.lint)
        level = settings.level
        latest = repo.latest_version(conn, subject)
        assessment = self._assess(conn, level, schema, latest)
        group = group_of(settings.group, item)
        if level is CompatibilityLevel.NONE or latest is None:
            result = CompatibilityResult()
        elif level.transitive or group is not None:
            result = self.check(conn, subject, schema, level, latest, group)
        else:
            result = CompatibilityResult(assessment.incompatibilities)
        if not result.compatible:
            raise IncompatibleSchemaError(
                f"Schema being registered is incompatible with an earlier schema for subject "
                f'"{subject}", details: {result.messages()}',
                incompatibility_problems(result),
            )
        previous = self._highest(conn, subject)
        reference = repo.latest_version(conn, subject, include_deleted=True)
        if reference != latest:
            assessment = self._classify(conn, level, schema, reference, previous)
        declassified = self._declassified(conn, subject, schema, reference, actor)
        semver = confluent_version(previous, assessment)
        appended = self._append(
            conn, subject, schema, item, semver, assessment.change, fp=fp if known is None else None
        )
        self._audit_declassification(appended, declassified, actor)
        return appended

    def publish(
        self,
        subject: str,
        item: SchemaInput,
        declared: str | None,
        *,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> PublishResult:
        """The semver gate: classify the change, refuse an understated version, move MAJOR to a new topic."""
        checked_topic(subject, 1)
        schema = self.parse(None, item)
        appended: Appended | None = None
        # A dry run reads only: it neither takes the subject's write lock nor leaves a row behind.
        with self.db.read() if dry_run else self.db.write() as conn:
            if not dry_run:
                repo.lock_subject(conn, subject)
            settings = self.settings(conn, subject)
            findings = self._lint(conn, subject, schema, settings.lint)
            latest = repo.latest_version(conn, subject)
            item = self._with_contract(conn, subject, item)
            if latest is not None and latest.schema_id == repo.schema_id_by_fingerprint(
                conn, fingerprint_of(schema, item)
            ):
                major = SemVer.parse(latest.semver).major
                return PublishResult(
                    subject,
                    latest.schema_id,
                    latest.version,
                    latest.semver,
                    "NONE",
                    [f"identical to version {latest.version}; nothing registered"],
                    governed_topic(subject, major),
                    finding_dicts(findings),
                    [],
                    dry_run,
                )
            if not dry_run:
                refused = register_refusal(subject, settings.mode, explicit_id=False)
                if refused is not None:
                    raise OperationNotPermittedError(refused)
            level = settings.level
            reference = repo.latest_version(conn, subject, include_deleted=True)
            previous = self._highest(conn, subject)
            assessment = self._classify(conn, level, schema, reference, previous)
            wanted = SemVer.parse(declared) if declared else None
            transitive = None
            if needs_transitive_check(previous, assessment):
                transitive = self.check(conn, subject, schema, level, reference)
            try:
                semver, assessment = gate_version(previous, wanted, assessment, transitive)
            except GateRefusedError as exc:
                raise gate_refusal(subject, exc) from exc
            topic = checked_topic(subject, semver.major)
            notice = None
            if assessment.change is ChangeClass.MAJOR and previous is not None:
                notice = (
                    f"MAJOR change: the governed topic moves from "
                    f"{governed_topic(subject, previous.major)} to {topic}"
                )
            declassified = self._declassified(conn, subject, schema, reference, actor)
            if not dry_run:
                appended = self._append(conn, subject, schema, item, semver, assessment.change)
                self._audit_declassification(appended, declassified, actor)
                repo.record_change(conn, subject)
        if appended is not None:
            self._remember(appended)
            self.on_change(subject)
        registered = appended.registered if appended is not None else None
        return PublishResult(
            subject=subject,
            id=registered.schema_id if registered else None,
            version=registered.version if registered else None,
            semver=str(semver),
            change=assessment.change.value,
            reasons=list(assessment.reasons) + ([notice] if notice else []),
            topic=topic,
            lint=finding_dicts(findings),
            incompatibilities=[
                {"path": i.path, "message": i.message, "kind": i.kind} for i in assessment.incompatibilities
            ],
            dry_run=dry_run,
            notice=notice,
        )

    def rollback(
        self, subject: str, to: int, declared: str | None = None, actor: Actor | None = None
    ) -> PublishResult:
        with self.db.read() as conn:
            row = self.version_row(conn, subject, to, include_deleted=True)
            stored = self.stored(conn, row.schema_id)
        item = SchemaInput(stored.raw, stored.schema_type, stored.references)
        return self.publish(subject, item, declared, actor=actor)

    # -- reads ---------------------------------------------------------------------------------------

    def check_against(
        self, subject: str, number: int | None, item: SchemaInput, *, all_versions: bool
    ) -> CompatibilityResult:
        with self.db.read() as conn:
            schema = self.parse(conn, item)
            group = group_of(self.settings(conn, subject).group, self._with_contract(conn, subject, item))
            if all_versions:
                return self.check(conn, subject, schema, group=group)
            # Confluent compares with the live version asked for: a missing number is 40402 (whether or
            # not the subject exists), and "latest" of a subject with no live version is compatible.
            if number is None:
                row = repo.latest_version(conn, subject)
            else:
                row = repo.version(conn, subject, number)
                if row is None or row.deleted:
                    raise VersionNotFoundError(subject, number)
            level = self.level(conn, subject)
            if level is CompatibilityLevel.NONE or row is None:
                return CompatibilityResult()
            if group is not None:
                name, value = group
                if contracts.group_value(self.stored(conn, row.schema_id).metadata, name) != value:
                    return CompatibilityResult()
            return check_compatibility(level, schema, [self.parsed(conn, row.schema_id)])

    def lookup(self, subject: str, item: SchemaInput, *, include_deleted: bool) -> VersionRow:
        with self.db.read() as conn:
            if repo.latest_version(conn, subject, include_deleted=True) is None:
                raise SubjectNotFoundError(subject)
            if not item.schema.strip():
                # Confluent matches an empty schema against nothing: not found, not invalid.
                raise SchemaNotFoundError("Schema not found")
            schema = self.parse(conn, item)
            # As registration would store it: as sent, then with the latest version's metadata and ruleSet.
            candidates = [item]
            contract = self._with_contract(conn, subject, item)
            if contract != item:
                candidates.append(contract)
            for candidate in candidates:
                known = repo.schema_id_by_fingerprint(conn, fingerprint_of(schema, candidate))
                if known is None:
                    continue
                live = repo.version_with_schema(conn, subject, known)
                if live is not None:
                    return live
                if include_deleted:
                    for row in repo.versions(conn, subject, include_deleted=True):
                        if row.schema_id == known:
                            return row
        raise SchemaNotFoundError("Schema not found")

    def _with_contract(self, conn: Connection, subject: str, item: SchemaInput) -> SchemaInput:
        """``item`` with the latest live version's metadata and ruleSet where it sends none (Confluent's
        maybeSetMetadataRuleSet), so re-registering a schema without them finds its version."""
        if item.metadata is not None and item.rule_set is not None:
            return item
        latest = repo.latest_version(conn, subject)
        if latest is None:
            return item
        stored = self.stored(conn, latest.schema_id)
        return replace(
            item,
            metadata=item.metadata if item.metadata is not None else stored.metadata,
            rule_set=item.rule_set if item.rule_set is not None else stored.rule_set,
        )
