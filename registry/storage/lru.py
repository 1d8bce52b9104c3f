"""A thread-safe least-recently-used map bounded by the bytes its values hold, not by their count.

A fill that read the database before an invalidation must not store what it read: callers take
:attr:`ByteLRU.generation` before reading and pass it to :meth:`ByteLRU.put`, which refuses the value once
any :meth:`ByteLRU.discard` happened in between.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class LRUStats:
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    evictions: int

    @property
    def hit_ratio(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


class ByteLRU(Generic[K, V]):
    """At most ``max_bytes`` of values, each costing ``size(value) + overhead`` (the key and bookkeeping)."""

    def __init__(self, *, max_bytes: int, size: Callable[[V], int], overhead: int = 0) -> None:
        self.max_bytes = max_bytes
        self._size = size
        self._overhead = overhead
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._generation = 0
        self._hits = self._misses = self._evictions = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self._misses += 1
                return None
            self._items.move_to_end(key)
            self._hits += 1
            return found[0]

    def put(self, key: K, value: V, *, generation: int | None = None, oldest: bool = False) -> bool:
        """Store ``value``; False when refused (a stale ``generation``, too big, no room as ``oldest``).

        ``oldest`` places it as the least recently used and never evicts for it (warming newest first).
        """
        cost = self._size(value) + self._overhead
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            if cost > self.max_bytes:
                return False
            previous = self._items.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            if oldest:
                if self._bytes + cost > self.max_bytes:
                    return False
                self._items[key] = (value, cost)
                self._items.move_to_end(key, last=False)
            else:
                self._items[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed
                self._evictions += 1
            return True

    def discard(self, key: K) -> None:
        """Remove ``key`` and invalidate fills begun before now."""
        with self._lock:
            self._generation += 1
            found = self._items.pop(key, None)
            if found is not None:
                self._bytes -= found[1]

    def discard_if(self, predicate: Callable[[K], bool]) -> None:
        """Remove every key ``predicate`` selects and invalidate fills begun before now."""
        with self._lock:
            self._generation += 1
            for key in [k for k in self._items if predicate(k)]:
                self._bytes -= self._items.pop(key)[1]

    def stats(self) -> LRUStats:
        with self._lock:
            return LRUStats(
                len(self._items), self._bytes, self.max_bytes, self._hits, self._misses, self._evictions
            )
