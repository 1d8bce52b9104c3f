"""The registry's use cases: register (Confluent and semver-gated), look up, check, delete, configure.

It joins the pure checks (parsing, compatibility, semver, lint) to storage, and writes a schema event to
the outbox in the same transaction as every change. It knows nothing about HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Connection

from registry import contracts
from registry.classification import Declassification, declassifications, field_classes, lost_tags
from registry.compatibility import CompatibilityLevel, CompatibilityResult, check_compatibility
from registry.errors import GateRefusedError, MajorNotDeclaredError
from registry.gate_audit import DeclassificationNotice
from registry.lineage import RegisteredVersion, RegistryLineage
from registry.lint import LintConfig, LintFinding, Severity, lint_schema
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
from registry.service_config import ConfigOperations, SubjectSettings, record_event
from registry.service_errors import (
    AuditUnavailableError,
    DeclassificationForbiddenError,
    IncompatibleSchemaError,
    InvalidSubjectError,
    LintRefusedError,
    OperationNotPermittedError,
    Problem,
    ReferenceExistsError,
    SchemaNotFoundError,
    SemverUnderstatedError,
    ServiceError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from registry.service_reads import ReadOperations
from registry.service_reads import SchemaInput as SchemaInput
from registry.storage import Database, Reference, StoredSchema, VersionRow
from registry.storage import repository as repo
from registry.storage.cache import IdCache
from spine.topics import topic_name_problem

logger = logging.getLogger(__name__)

EVENTS_TOPIC = "_spine.schemas"

AuditCall = Callable[[DeclassificationNotice, str], None]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who publishes: a name, whether the role may declassify (security, admin), and the credential the
    registry forwards to the residency gate to audit a declassification."""

    name: str
    may_declassify: bool
    authorization: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Registered:
    subject: str
    version: int
    schema_id: int
    semver: str


@dataclass(frozen=True, slots=True)
class Appended:
    """A version just appended, with the schema row when this write inserted it."""

    registered: Registered
    stored: StoredSchema | None
    parsed: ParsedSchema


@dataclass(slots=True)
class PublishResult:
    """The answer of the semver-gated publish (spine API)."""

    subject: str
    id: int | None
    version: int | None
    semver: str
    change: str
    reasons: list[str]
    topic: str
    lint: list[dict[str, str]]
    incompatibilities: list[dict[str, str]]
    dry_run: bool
    notice: str | None = None


def governed_topic(subject: str, major: int) -> str:
    base = subject
    for suffix in ("-value", "-key"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"{base}.v{major}"


def checked_topic(subject: str, major: int) -> str:
    """The governed topic of ``subject`` at ``major``, or InvalidSubjectError when Kafka would refuse it.

    The topic starts with the subject, so a character's position in the topic is its position in the subject.
    """
    topic = governed_topic(subject, major)
    problem = topic_name_problem(topic)
    if problem is not None:
        raise InvalidSubjectError(f"subject {subject!r}: {problem}")
    return topic


def _lint_problems(findings: Sequence[LintFinding]) -> list[Problem]:
    return [Problem(f.path, f.message, f"lint:{f.rule}") for f in findings if f.severity is Severity.ERROR]


def _finding_dicts(findings: Sequence[LintFinding]) -> list[dict[str, str]]:
    return [
        {"rule": f.rule, "severity": str(f.severity.value), "path": f.path, "message": f.message}
        for f in findings
    ]


def _incompatibility_problems(result: CompatibilityResult) -> list[Problem]:
    return [Problem(i.path, i.message, i.kind) for i in result.incompatibilities]


Group = tuple[str, str | None]


def _fingerprint(schema: ParsedSchema, item: SchemaInput) -> str:
    return repo.fingerprint(
        schema.schema_type.value, schema.canonical(), item.references, item.metadata, item.rule_set
    )


def _group(name: str | None, item: SchemaInput) -> Group | None:
    """The compatibility group a new version falls in: the property's name and the version's value."""
    return None if name is None else (name, contracts.group_value(item.metadata, name))


def _gate_refusal(subject: str, exc: GateRefusedError) -> ServiceError:
    """The API error for a refusal of the semver gate: 409 for an undeclared MAJOR, else 42240."""
    incompatible = [Problem(i.path, i.message, i.kind) for i in exc.incompatibilities]
    if isinstance(exc, MajorNotDeclaredError):
        return IncompatibleSchemaError(f"Schema for subject {subject!r}: {exc}", incompatible)
    problems = incompatible or [Problem("", reason, "semver") for reason in exc.problems]
    return SemverUnderstatedError(str(exc), problems or [Problem("", str(exc), "semver")])


class RegistryService(ReadOperations, ConfigOperations):
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
        problems = _lint_problems(findings)
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
    ) -> Appended:
        """``new_id``: insert the schema under this (free) id, as IMPORT mode does."""
        schema_type = schema.schema_type.value
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
                imported = self._import(conn, subject, schema, item, _fingerprint(schema, item), actor)
                if isinstance(imported, Registered):
                    return imported
                appended = imported
            else:
                item = self._with_contract(conn, subject, item)
                fp = _fingerprint(schema, item)
                known = repo.schema_id_by_fingerprint(conn, fp)
                found = repo.version_with_schema(conn, subject, known) if known is not None else None
                pinned = contracts.pinned_version(item.metadata)
                if found is not None and (pinned is None or found.version == pinned):
                    return Registered(subject, found.version, found.schema_id, found.semver)
                if pinned is not None:
                    # A new version records its own number in confluent:version.
                    number = repo.next_version(conn, subject)
                    item = replace(item, metadata=contracts.with_version(item.metadata, number))
                    fp = _fingerprint(schema, item)
                    known = repo.schema_id_by_fingerprint(conn, fp)
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
        if (
            existing is not None
            and repo.fingerprint(existing.schema_type, existing.canonical, existing.references) != fp
        ):
            raise OperationNotPermittedError(f"Overwrite new schema with id {wanted} is not permitted.")
        known = repo.schema_id_by_fingerprint(conn, fp)
        if known is not None and known != wanted:
            raise OperationNotPermittedError(
                f"Schema is already registered with id {known}; it cannot be imported as id {wanted}"
            )
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
            new_id=wanted if existing is None else None,
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
        group = _group(settings.group, item)
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
                _incompatibility_problems(result),
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
                conn, _fingerprint(schema, item)
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
                    _finding_dicts(findings),
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
                raise _gate_refusal(subject, exc) from exc
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
            lint=_finding_dicts(findings),
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
            group = _group(self.settings(conn, subject).group, self._with_contract(conn, subject, item))
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
                known = repo.schema_id_by_fingerprint(conn, _fingerprint(schema, candidate))
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

    # -- lifecycle -----------------------------------------------------------------------------------

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft-delete a subject's live versions, or (``permanent``) purge its soft-deleted ones.

        A producer may delete for good even when the versions carry classification tags, on purpose: the
        delete cannot declassify anything. Each field's last tags (``field_classes``) and the semver line
        outlive it, so a republish that drops or weakens them is refused for a producer and audited for
        security or admin like any other declassification; schema ids stay readable for records on the
        topic, and the gate denies routes pinned to a purged version. Requiring security here would add a
        gate that protects nothing and break Confluent clients that clean up with a producer credential.
        """
        with self.db.write() as conn:
            repo.lock_subject(conn, subject)
            self._refuse_when_read_only(conn, subject)
            rows = repo.versions(conn, subject, include_deleted=True)
            if not rows:
                repo.purge(conn, subject, None)
                raise SubjectNotFoundError(subject)
            live = [r for r in rows if not r.deleted]
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(subject)
                repo.purge(conn, subject, None)
            else:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                repo.mark_deleted(conn, subject, None)
            self._event(conn, "DELETED", subject, permanent=permanent)
            repo.record_change(conn, subject)
        self.on_change(subject)
        return [r.version for r in (rows if permanent else live)]

    def delete_version(self, subject: str, number: int | None, *, permanent: bool) -> int:
        with self.db.write() as conn:
            repo.lock_subject(conn, subject)
            row = self.version_row(conn, subject, number, include_deleted=permanent or number is not None)
            self._refuse_when_read_only(conn, subject)
            if permanent:
                if not row.deleted:
                    raise VersionNotSoftDeletedError(subject, row.version)
                repo.purge(conn, subject, row.version)
            else:
                if row.deleted:
                    raise VersionSoftDeletedError(subject, row.version)
                if repo.referenced_by(conn, subject, row.version):
                    raise ReferenceExistsError(
                        f"One or more references exist to the schema {{subject={subject},"
                        f"version={row.version}}}"
                    )
                repo.mark_deleted(conn, subject, row.version)
            self._event(
                conn, "DELETED", subject, version=row.version, schema_id=row.schema_id, permanent=permanent
            )
            repo.record_change(conn, subject)
        self.on_change(subject)
        return row.version

    def deprecate(self, subject: str, number: int | None) -> VersionRow:
        with self.db.write() as conn:
            row = self.version_row(conn, subject, number)
            repo.mark_deprecated(conn, subject, row.version)
            self._event(
                conn, "DEPRECATED", subject, version=row.version, schema_id=row.schema_id, semver=row.semver
            )
            return repo.version(conn, subject, row.version) or row
