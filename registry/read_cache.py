"""The registry's read model in memory: encoded schema bodies by id and live versions by subject.

One :class:`ByteLRU` bounded in bytes holds both kinds (an ``int`` key is a schema id, a ``str`` key a
subject). Schema ids never change meaning and schema rows are never removed, so a body once encoded stays
right; a subject's versions change with every register and delete, so its entry is dropped after this
process commits one (``invalidate``) and, for writes by another process on the same database, when the
:class:`ChangeWatcher` sees the database's change counter move. It knows nothing about HTTP: bodies are
encoded by the function the API passes in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from registry.errors import SchemaNotFoundError, StorageError
from registry.schemas import SchemaType
from registry.storage import Database, StoredSchema
from registry.storage import repository as repo
from registry.storage.lru import ByteLRU, LRUStats

logger = logging.getLogger(__name__)

# Bytes of bookkeeping per entry beside its value: the key, the OrderedDict node and the value's header.
ENTRY_OVERHEAD = 160
# Schema types whose body needs no parsing to encode, so warming them is a read and a JSON encode.
WARMED_TYPES = (SchemaType.AVRO.value, SchemaType.JSON.value)

Encode = Callable[[StoredSchema], bytes]
Key = int | str


@dataclass(frozen=True, slots=True)
class LiveVersions:
    """A subject's live versions: schema id by version number, and the latest number."""

    ids: dict[int, int]
    latest: int


Entry = bytes | LiveVersions


def _cost(value: Entry) -> int:
    return len(value) if isinstance(value, bytes) else 72 * len(value.ids)


@dataclass(frozen=True, slots=True)
class WarmReport:
    schemas: int
    subjects: int
    seconds: float
    full: bool


class ReadCache:
    """Answers reads by id and by subject version from memory; loads what is missing from ``db``."""

    def __init__(
        self, db: Database, *, max_bytes: int, load: Callable[[int], StoredSchema], encode: Encode
    ) -> None:
        """``load`` reads a stored schema by id (raising SchemaNotFoundError); ``encode`` makes its body."""
        self.db = db
        self._load = load
        self._encode = encode
        self.lru: ByteLRU[Key, Entry] = ByteLRU(max_bytes=max_bytes, size=_cost, overhead=ENTRY_OVERHEAD)
        self.warmed: WarmReport | None = None

    def stats(self) -> LRUStats:
        return self.lru.stats()

    # -- the hot path: memory only, on the event loop --------------------------------------------------

    def body(self, schema_id: int) -> bytes | None:
        found = self.lru.get(schema_id)
        return found if isinstance(found, bytes) else None

    def version_id(self, subject: str, version: int | None) -> tuple[int, int] | None:
        """(version, schema id) of a live version (None: the latest), or None when it is not in memory."""
        found = self.lru.get(subject)
        if not isinstance(found, LiveVersions):
            return None
        number = found.latest if version is None else version
        schema_id = found.ids.get(number)
        return None if schema_id is None else (number, schema_id)

    # -- misses: database reads, in a worker thread ---------------------------------------------------

    def load_body(self, schema_id: int) -> bytes | None:
        """The body of ``schema_id`` read from the database and kept, or None when there is no such id."""
        generation = self.lru.generation
        try:
            body = self._encode(self._load(schema_id))
        except SchemaNotFoundError:
            return None
        self.lru.put(schema_id, body, generation=generation)
        return body

    def load_version(self, subject: str, version: int | None) -> tuple[int, int] | None:
        """(version, schema id) of a live version read from the database, keeping the subject's versions."""
        generation = self.lru.generation
        with self.db.read() as conn:
            ids = repo.live_versions_of(conn, subject)
        if not ids:
            return None
        live = LiveVersions(ids, max(ids))
        self.lru.put(subject, live, generation=generation)
        number = live.latest if version is None else version
        found = ids.get(number)
        return None if found is None else (number, found)

    # -- coherence ------------------------------------------------------------------------------------

    def invalidate(self, subject: str) -> None:
        """Forget ``subject``'s versions; called after a write to it committed."""
        self.lru.discard(subject)

    def invalidate_subjects(self) -> None:
        self.lru.discard_if(lambda key: isinstance(key, str))

    def warm(self) -> WarmReport:
        """Fill memory from the database, newest schemas first, until the byte bound is reached."""
        started = time.perf_counter()
        schemas = subjects = 0
        full = False
        generation = self.lru.generation
        with self.db.read() as conn:
            for subject, ids in repo.live_version_ids(conn):
                if not self.lru.put(subject, LiveVersions(ids, max(ids)), generation=generation, oldest=True):
                    full = True
                    break
                subjects += 1
            for stored in repo.newest_schemas(conn, WARMED_TYPES) if not full else ():
                if not self.lru.put(stored.id, self._encode(stored), generation=generation, oldest=True):
                    full = True
                    break
                schemas += 1
        self.warmed = WarmReport(schemas, subjects, time.perf_counter() - started, full)
        logger.info(
            "read cache warmed with %d schemas and %d subjects in %.2fs%s",
            schemas,
            subjects,
            self.warmed.seconds,
            " (byte bound reached)" if full else "",
        )
        return self.warmed


class ChangeWatcher:
    """Polls the database's change counter and drops the entries of subjects another process changed."""

    def __init__(self, cache: ReadCache, *, interval_s: float) -> None:
        self.cache = cache
        self.interval_s = interval_s
        self.seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self) -> None:
        """Start from the database's current change: call before warming, so no change is missed."""
        with self.cache.db.read() as conn:
            self.seq = repo.change_seq(conn)

    def poll(self) -> None:
        with self.cache.db.read() as conn:
            newest, subjects = repo.changes_since(conn, self.seq)
        if newest == self.seq:
            return
        if subjects is None:
            self.cache.invalidate_subjects()
        else:
            for subject in subjects:
                self.cache.invalidate(subject)
        self.seq = newest

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll()
            except StorageError as exc:
                logger.warning("read cache change poll failed (retrying): %s", exc)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="registry-change-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
