"""A bounded, thread-safe cache of immutable values by global schema id (stored schemas never change).

Misses (``None``) are not cached: an id may be assigned later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdCache(Generic[V]):
    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._items: OrderedDict[int, V] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: int) -> V | None:
        with self._lock:
            return self._items.get(key)

    def get_or_load(self, key: int, load: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        if value is None:
            return value
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return value
