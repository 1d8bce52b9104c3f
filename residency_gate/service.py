"""The gate's stateful core: the policy in force, quarantined sinks, and the append-only audit log in SQL.

Every decision, policy change, quarantine and scan finding is appended to the audit log under one writer
lock and in one transaction (which also fills the outbox), so ``seq`` stays contiguous under concurrent
requests and nothing is answered that was not recorded. Checkpoints are signed from a running Merkle
accumulator, stored, and queued for ``_spine.audit`` in one transaction. HTTP lives in
:mod:`residency_gate.app`; evaluation itself in :mod:`residency_gate.evaluate`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from residency_gate.audit import (
    GENESIS_HASH,
    Checkpoint,
    canonical_json,
    checkpoint_message,
    decision_body,
    declassification_body,
    finding_body,
    format_time,
    key_id,
    leaf_hash,
    policy_change_body,
    public_key_pem,
    seal,
    sign_root,
)
from residency_gate.audit.merkle import MerkleAccumulator
from residency_gate.errors import AuditError, PolicyError, ResidencyError
from residency_gate.evaluate import Decision, Route, RunRef, deny, evaluate
from residency_gate.lineage import GateLineage
from residency_gate.policy import Policy, empty_policy, load_policy_file, load_policy_text
from residency_gate.storage import DatabaseUnavailableError, Transaction, audit_log, state
from residency_gate.tags import Lookup, link_schemas, resolve_routes
from spine import outbox
from spine.topics import AUDIT

logger = logging.getLogger(__name__)

Record = dict[str, Any]
MAX_VERSION_LENGTH = 128
MAX_SINK_LENGTH = 249


class NotFoundError(ResidencyError):
    """A decision, sink or record asked for does not exist."""


class BadRequestError(ResidencyError):
    """A request parameter is malformed."""


class ConflictError(ResidencyError):
    """The request contradicts stored state (a policy version reused with a different document)."""


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    policy: Policy
    revision: int
    created_by: str | None
    created_at: str | None

    def to_dict(self, *, with_document: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.policy.version,
            "hash": self.policy.hash,
            "revision": self.revision,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }
        if with_document:
            out["document"] = self.policy.document
        return out


def check_sink_name(sink: str) -> str:
    """A sink or topic name that can be stored: 1 to 249 printable characters, no slash."""
    if not 0 < len(sink) <= MAX_SINK_LENGTH or not sink.isprintable() or "/" in sink:
        raise BadRequestError(f"sink name must be 1 to {MAX_SINK_LENGTH} printable characters without '/'")
    return sink


def normalize_time(text: str, name: str) -> str:
    """An ISO-8601 time in the audit log's format (UTC, microseconds, Z); naive times are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequestError(f"{name}: not an ISO-8601 time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_time(parsed)


def _leaf(canonical_text: str) -> bytes:
    """RFC 6962 leaf hash from a record's canonical JSON text: what ``leaf_hash(record)`` computes, once."""
    return hashlib.sha256(b"\x00" + canonical_text.encode("utf-8")).digest()


class GateService:
    """Decide, record, checkpoint. Thread-safe; one instance per process and database."""

    def __init__(
        self,
        engine: Engine,
        *,
        signing_key_pem: bytes,
        checkpoint_every: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tags: Lookup | None = None,
        lineage: GateLineage | None = None,
    ) -> None:
        self._engine = engine
        self._tags = tags
        self.lineage = lineage or GateLineage()
        self._signing_key = signing_key_pem
        self.public_key_pem = public_key_pem(signing_key_pem)
        self.key_id = key_id(self.public_key_pem)
        self._checkpoint_every = checkpoint_every
        self._clock = clock
        self._lock = threading.Lock()
        self._merkle = MerkleAccumulator()
        self._checkpointed = 0
        self._active = ActivePolicy(empty_policy(), 0, None, None)
        self._quarantined: frozenset[str] = frozenset()
        self._pending_leaves: list[bytes] = []
        self.on_append: Callable[[], None] = lambda: None

    # --- start-up -------------------------------------------------------------------------------------

    def load(self, policy_file: Path | None = None) -> None:
        """Read state from the database; with no stored policy, bring ``policy_file`` into force."""
        with self._lock, self._write() as conn:
            stored = state.active_policy(conn)
            if stored is not None:
                policy = load_policy_text(stored.source_text, f"stored policy revision {stored.revision}")
                self._active = ActivePolicy(policy, stored.revision, stored.created_by, stored.created_at)
            self._quarantined = frozenset(q.sink for q in state.quarantined(conn))
            self._rebuild_merkle(conn)
            self._checkpointed = audit_log.last_checkpoint_size(conn)
        if stored is None and policy_file is not None:
            policy = load_policy_file(policy_file)
            text = policy_file.read_text(encoding="utf-8")
            self.push_policy(text, source=str(policy_file), actor=f"policy_file:{policy_file}", parsed=policy)
        logger.info(
            "residency gate ready: policy %s (%s), %d audit records",
            self._active.policy.version,
            self._active.policy.hash[:12],
            self._merkle.size,
        )

    def _rebuild_merkle(self, conn: Connection) -> None:
        merkle = MerkleAccumulator()
        merkle.extend(leaf_hash(record) for record in audit_log.records_since(conn, 0))
        self._merkle = merkle

    # --- transactions ---------------------------------------------------------------------------------

    def _write(self) -> Transaction:
        return Transaction(self._engine)

    def _append(self, conn: Connection, bodies: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Seal and store ``bodies`` after the current head, and queue them for ``_spine.audit``."""
        audit_log.lock_for_append(conn)
        size, last = audit_log.head(conn)
        if size != self._merkle.size:
            self._rebuild_merkle(conn)
        prev = last or GENESIS_HASH
        sealed: list[tuple[Record, str]] = []
        for offset, body in enumerate(bodies):
            record = seal(body, seq=size + offset, prev_hash=prev)
            sealed.append((record, canonical_json(record).decode("utf-8")))
            prev = record["hash"]
        audit_log.insert_records(conn, sealed)
        queued = [(record.get("decision_id"), text) for record, text in sealed]
        audit_log.enqueue(conn, AUDIT, queued)
        self._pending_leaves = [_leaf(text) for _, text in sealed]
        return [record for record, _ in sealed]

    def _appended(self) -> None:
        """After commit: extend the Merkle tree, sign a checkpoint if due, wake the relay."""
        self._merkle.extend(self._pending_leaves)
        self._pending_leaves = []
        if self._merkle.size - self._checkpointed >= self._checkpoint_every:
            try:
                self._checkpoint_locked()
            except (DatabaseUnavailableError, AuditError):
                # The records are committed and will be answered; the timer signs the checkpoint later.
                logger.exception("signing a checkpoint after an append failed")
        self.on_append()

    # --- decisions ------------------------------------------------------------------------------------

    def evaluate(self, routes: Sequence[Route], run: RunRef | None = None) -> list[Decision]:
        """Decide every route under the policy in force and record each decision before answering.

        A route naming a schema gets that version's tagged fields from the registry first (outside the
        lock); when they cannot be read, the route is denied with the reason. With ``run``, the decisions
        also go to that lineage run as a ``spine_residency`` facet, in the same transaction.
        """
        resolved = resolve_routes(link_schemas(routes, self._active.policy), self._tags)
        with self._lock:
            policy, quarantined = self._active.policy, self._quarantined
            decisions = [
                evaluate(policy, r.route, quarantined=quarantined)
                if r.denial is None
                else deny(policy, r.route, r.denial)
                for r in resolved
            ]
            now = self._clock()
            with self._write() as conn:
                self._append(conn, [decision_body(d, time=now) for d in decisions])
                if run is not None:
                    self.lineage.evaluated(conn, run, decisions, now)
            self._appended()
        return decisions

    # --- policy ---------------------------------------------------------------------------------------

    @property
    def active(self) -> ActivePolicy:
        return self._active

    def push_policy(
        self, text: str, *, source: str, actor: str, parsed: Policy | None = None
    ) -> tuple[ActivePolicy, bool]:
        """Validate and bring a policy into force (audited); returns it and whether anything changed."""
        policy = parsed or load_policy_text(text, source)
        if len(policy.version) > MAX_VERSION_LENGTH:
            raise PolicyError(source, None, f"version is longer than {MAX_VERSION_LENGTH} characters")
        with self._lock:
            current = self._active
            if current.revision and current.policy.hash == policy.hash:
                return current, False
            now = self._clock()
            with self._write() as conn:
                same_version = state.policy_with_version(conn, policy.version)
                if same_version is not None and same_version.hash != policy.hash:
                    raise ConflictError(
                        f"policy version {policy.version} already exists with a different document "
                        f"(revision {same_version.revision}); give the new policy a new version"
                    )
                revision = state.activate_policy(
                    conn,
                    version=policy.version,
                    hash=policy.hash,
                    document=json.dumps(policy.document, sort_keys=True),
                    source_text=text,
                    created_by=actor,
                    created_at=format_time(now),
                )
                previous = current.policy.hash if current.revision else None
                body = policy_change_body(policy, actor=actor, time=now, previous_hash=previous)
                self._append(conn, [body])
            self._active = ActivePolicy(policy, revision, actor, format_time(now))
            self._appended()
        logger.info("policy %s (%s) in force, pushed by %s", policy.version, policy.hash[:12], actor)
        return self._active, True

    def policy_history(self) -> list[dict[str, Any]]:
        """Every stored revision, oldest first, without documents (the audit log holds each one)."""
        with self._engine.connect() as conn:
            stored = state.policy_history(conn)
        active = self._active.revision
        return [
            {
                "revision": p.revision,
                "version": p.version,
                "hash": p.hash,
                "created_by": p.created_by,
                "created_at": p.created_at,
                "active": p.revision == active,
            }
            for p in stored
        ]

    # --- quarantine and findings ----------------------------------------------------------------------

    @property
    def quarantined(self) -> frozenset[str]:
        return self._quarantined

    def quarantine_list(self) -> list[state.Quarantine]:
        with self._engine.connect() as conn:
            return state.quarantined(conn)

    def quarantine(self, sink: str, *, reason: str, actor: str) -> bool:
        """Deny every route to ``sink`` until released (audited); False when it already was quarantined."""
        check_sink_name(sink)
        with self._lock:
            now = self._clock()
            with self._write() as conn:
                entry = state.Quarantine(sink, reason, actor, format_time(now))
                if not state.add_quarantine(conn, entry):
                    return False
                self._append(conn, [finding_body("quarantine", sink, f"{actor}: {reason}", time=now)])
            self._quarantined = self._quarantined | {sink}
            self._appended()
        return True

    def release(self, sink: str, *, actor: str) -> None:
        with self._lock:
            now = self._clock()
            with self._write() as conn:
                if not state.remove_quarantine(conn, sink):
                    raise NotFoundError(f"sink {sink} is not quarantined")
                self._append(conn, [finding_body("release", sink, f"released by {actor}", time=now)])
            self._quarantined = self._quarantined - {sink}
            self._appended()

    def record_findings(self, findings: Sequence[tuple[str, str]], *, actor: str) -> list[Record]:
        """Append one ``finding`` record per (subject, detail)."""
        with self._lock:
            now = self._clock()
            bodies = [finding_body("finding", s, f"{d} (reported by {actor})", time=now) for s, d in findings]
            with self._write() as conn:
                records = self._append(conn, bodies)
            self._appended()
        return records

    def record_declassification(
        self,
        *,
        subject: str,
        version: int,
        semver: str,
        schema_id: int | None,
        fields: Sequence[tuple[str, Sequence[str], str]],
        actor: str,
    ) -> Record:
        """Append one ``declassification`` record: the registry calls this before committing the version."""
        with self._lock:
            body = declassification_body(
                subject=subject,
                version=version,
                semver=semver,
                schema_id=schema_id,
                fields=fields,
                actor=actor,
                time=self._clock(),
            )
            with self._write() as conn:
                [record] = self._append(conn, [body])
            self._appended()
        return record

    # --- reading the log ------------------------------------------------------------------------------

    def size(self) -> int:
        with self._engine.connect() as conn:
            return audit_log.head(conn)[0]

    def records(
        self, *, since_seq: int = 0, limit: int = 100, since: str | None = None, until: str | None = None
    ) -> list[Record]:
        with self._engine.connect() as conn:
            if since is None and until is None:
                return audit_log.records_since(conn, since_seq, limit)
            return audit_log.records_between(conn, since, until, limit, since_seq)

    def outbox_pending(self) -> int:
        return self.outbox_stats().pending

    def outbox_stats(self) -> outbox.OutboxStats:
        with self._engine.connect() as conn:
            return outbox.stats(conn)

    def decision_records(self, decision_id: str) -> list[Record]:
        with self._engine.connect() as conn:
            found = audit_log.records_for_decision(conn, decision_id)
        if not found:
            raise NotFoundError(f"no audit record for decision {decision_id}")
        return found

    def checkpoints(self) -> list[Record]:
        with self._engine.connect() as conn:
            return audit_log.list_checkpoints(conn)

    # --- checkpoints ----------------------------------------------------------------------------------

    def checkpoint(self, *, force: bool = False) -> Checkpoint | None:
        """Sign a checkpoint over the whole log if records were added since the last one (or ``force``)."""
        with self._lock:
            if not force and self._merkle.size <= self._checkpointed:
                return None
            return self._checkpoint_locked()

    def _checkpoint_locked(self) -> Checkpoint:
        checkpoint = sign_root(self._merkle.size, self._merkle.root(), self._signing_key, time=self._clock())
        with self._write() as conn:
            if audit_log.last_checkpoint_size(conn) < checkpoint.tree_size:
                audit_log.insert_checkpoint(conn, checkpoint.to_dict())
                # Published in the same transaction: a copy outside the database an attacker must also reach.
                audit_log.enqueue(conn, AUDIT, [checkpoint_message(checkpoint)])
        self._checkpointed = checkpoint.tree_size
        logger.debug("signed checkpoint at tree size %d", checkpoint.tree_size)
        return checkpoint


__all__ = [
    "ActivePolicy",
    "BadRequestError",
    "ConflictError",
    "GateService",
    "NotFoundError",
    "check_sink_name",
    "normalize_time",
]
