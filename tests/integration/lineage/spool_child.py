"""A process without a database emitting lineage through the spool, driven in phases by the delivery test.

``python -m tests.integration.lineage.spool_child HOME BOOTSTRAP``: emits events 0..N in three phases,
printing ``phase N`` after each and reading one line from stdin before the next; then drains and prints
``left <count>``, exiting non-zero when events are left in the spool.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from lineage.emit import LineageEmitter, producer_uri
from spine.settings import KafkaSettings

TOTAL = 10_000
PHASES = ((0, 4_000), (4_000, 7_000), (7_000, TOTAL))
STATES = (RunState.START, RunState.RUNNING, RunState.OTHER, RunState.COMPLETE)
_RUNS = uuid.UUID("6c1b8f52-3d0e-4f43-9a55-5e1c0d2b7a10")
_BASE = datetime(2026, 11, 1, tzinfo=UTC)


def run_id(index: int) -> str:
    return str(uuid.uuid5(_RUNS, str(index // len(STATES))))


def event(index: int) -> RunEvent:
    """Event ``index``: runs of four events (START, RUNNING, OTHER, COMPLETE), a millisecond apart."""
    return RunEvent(
        eventType=STATES[index % len(STATES)],
        eventTime=(_BASE + timedelta(milliseconds=index)).isoformat(),
        run=Run(runId=run_id(index)),
        job=Job(namespace="data-spine-test", name=f"job-{index // len(STATES) % 50}"),
        producer=producer_uri("spool-child"),
    )


def identity(index: int) -> tuple[str, str, str]:
    """What the lineage service deduplicates by: (run id, eventType, eventTime)."""
    made = event(index)
    assert made.eventType is not None
    return str(made.run.runId), made.eventType.value, made.eventTime


def main(home: str, bootstrap: str) -> int:
    emitter = LineageEmitter.for_spool(Path(home), "spool-child", KafkaSettings(bootstrap=bootstrap))
    for number, (start, stop) in enumerate(PHASES, start=1):
        for index in range(start, stop):
            emitter.emit(event(index))
        print(f"phase {number}", flush=True)
        if number < len(PHASES):
            sys.stdin.readline()
    left = emitter.close(timeout=60.0)
    print(f"left {left}", flush=True)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
