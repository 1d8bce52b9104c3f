"""An outbox in a service's ``/metrics`` and ``/health/ready``: pending rows and the oldest row's age."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge

from spine.errors import DegradedError
from spine.http import ReadyCheck
from spine.outbox.table import OutboxStats

StatsSource = Callable[[], OutboxStats]


def register_outbox_metrics(registry: CollectorRegistry, name: str, source: StatsSource) -> None:
    """``spine_outbox_pending`` and ``spine_outbox_oldest_pending_seconds``, labelled with the outbox."""
    pending = Gauge(
        "spine_outbox_pending", "Outbox rows not yet acknowledged by Kafka", ["outbox"], registry=registry
    )
    age = Gauge(
        "spine_outbox_oldest_pending_seconds",
        "Age of the oldest outbox row not yet acknowledged by Kafka",
        ["outbox"],
        registry=registry,
    )
    pending.labels(name).set_function(lambda: source().pending)
    age.labels(name).set_function(lambda: source().oldest_age_s())


def outbox_ready_check(name: str, source: StatsSource, threshold_s: float) -> ReadyCheck:
    """A readiness check that fails as degraded once the oldest pending row is older than ``threshold_s``."""

    async def check() -> None:
        stats = await asyncio.to_thread(source)
        if stats.degraded(threshold_s):
            age = stats.oldest_age_s()
            raise DegradedError(
                f"outbox relay {name} degraded: {stats.pending} pending, oldest {age:.1f}s "
                f"(threshold {threshold_s:g}s)",
                detail={"relay": name, "pending": stats.pending, "oldest_pending_s": round(age, 1)},
            )

    return check


__all__ = ["StatsSource", "outbox_ready_check", "register_outbox_metrics"]
