"""The registry's own Prometheus figures: its read cache, its start-up time and the process's memory."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge, ProcessCollector

from registry.read_cache import ChangeWatcher, ReadCache


def register_cache_metrics(
    registry: CollectorRegistry,
    cache: ReadCache,
    watcher: ChangeWatcher,
    startup_seconds: Callable[[], float],
) -> None:
    """``spine_registry_cache_*``, ``spine_registry_startup_seconds`` and ``process_*`` (RSS among them)."""
    figures: list[tuple[str, str, Callable[[], float]]] = [
        (
            "spine_registry_cache_entries",
            "Schema bodies and subjects held in memory",
            lambda: cache.stats().entries,
        ),
        ("spine_registry_cache_bytes", "Bytes the read cache accounts for", lambda: cache.stats().bytes),
        ("spine_registry_cache_max_bytes", "The read cache's byte bound", lambda: cache.stats().max_bytes),
        ("spine_registry_cache_hits", "Reads answered from memory since start", lambda: cache.stats().hits),
        (
            "spine_registry_cache_misses",
            "Reads that went to the database since start",
            lambda: cache.stats().misses,
        ),
        (
            "spine_registry_cache_evictions",
            "Entries evicted for the byte bound",
            lambda: cache.stats().evictions,
        ),
        (
            "spine_registry_cache_hit_ratio",
            "Hits / (hits + misses) since start",
            lambda: cache.stats().hit_ratio,
        ),
        (
            "spine_registry_cache_warm_seconds",
            "Seconds the start-up warming took",
            lambda: cache.warmed.seconds if cache.warmed else 0.0,
        ),
        (
            "spine_registry_cache_warmed_schemas",
            "Schema bodies loaded at start",
            lambda: cache.warmed.schemas if cache.warmed else 0,
        ),
        (
            "spine_registry_change_seq",
            "The newest database change the cache has applied",
            lambda: watcher.seq,
        ),
        (
            "spine_registry_startup_seconds",
            "Seconds from building the app to serving (warm cache)",
            startup_seconds,
        ),
    ]
    for name, documentation, value in figures:
        Gauge(name, documentation, registry=registry).set_function(value)
    ProcessCollector(registry=registry)
