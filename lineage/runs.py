"""The run state machine (Marquez's states), pure: which state a run is in after an event.

Events may arrive out of order (two transports, retries), so the state is decided by rank, then time: a
terminal state (COMPLETED, ABORTED, FAILED) is never undone by a late START or RUNNING, and between two
states of the same rank the later event time wins. ``OTHER`` events carry metadata and change nothing.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    NEW = "NEW"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    ABORTED = "ABORTED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (RunState.COMPLETED, RunState.ABORTED, RunState.FAILED)

    @property
    def rank(self) -> int:
        return 2 if self.terminal else (1 if self is RunState.RUNNING else 0)


_BY_EVENT = {
    "START": RunState.RUNNING,
    "RUNNING": RunState.RUNNING,
    "COMPLETE": RunState.COMPLETED,
    "ABORT": RunState.ABORTED,
    "FAIL": RunState.FAILED,
}


def state_for(event_type: str | None) -> RunState | None:
    """The state an event type moves a run to, or None (``OTHER``, absent) when it moves nothing."""
    return _BY_EVENT.get(event_type or "")


def transition(
    current: RunState | None, current_at: str | None, event_type: str | None, at: str
) -> tuple[RunState, str | None]:
    """(state, time it was reached) after an event of ``event_type`` at ``at`` (sortable UTC text)."""
    candidate = state_for(event_type)
    if current is None:
        return (candidate, at) if candidate is not None else (RunState.NEW, None)
    if candidate is None:
        return current, current_at
    if candidate.rank > current.rank or (
        candidate.rank == current.rank and (current_at is None or at >= current_at)
    ):
        return candidate, at
    return current, current_at


__all__ = ["RunState", "state_for", "transition"]
