from __future__ import annotations

import pytest

from lineage.runs import RunState, transition

T1, T2, T3 = "2026-11-01T10:00:00.000000Z", "2026-11-01T10:01:00.000000Z", "2026-11-01T10:02:00.000000Z"


@pytest.mark.parametrize(
    ("current", "current_at", "event", "at", "expected"),
    [
        (None, None, "START", T1, (RunState.RUNNING, T1)),
        (None, None, "OTHER", T1, (RunState.NEW, None)),
        (None, None, "COMPLETE", T2, (RunState.COMPLETED, T2)),
        (RunState.NEW, None, "START", T1, (RunState.RUNNING, T1)),
        (RunState.RUNNING, T1, "RUNNING", T2, (RunState.RUNNING, T2)),
        (RunState.RUNNING, T1, "COMPLETE", T2, (RunState.COMPLETED, T2)),
        (RunState.RUNNING, T1, "FAIL", T2, (RunState.FAILED, T2)),
        (RunState.RUNNING, T1, "ABORT", T2, (RunState.ABORTED, T2)),
        (RunState.RUNNING, T1, "OTHER", T2, (RunState.RUNNING, T1)),
        # a late START never undoes a terminal state
        (RunState.COMPLETED, T2, "START", T1, (RunState.COMPLETED, T2)),
        (RunState.COMPLETED, T2, "START", T3, (RunState.COMPLETED, T2)),
        # between terminal states the later event wins, whatever order they arrive in
        (RunState.FAILED, T3, "COMPLETE", T2, (RunState.FAILED, T3)),
        (RunState.FAILED, T2, "COMPLETE", T3, (RunState.COMPLETED, T3)),
        (RunState.RUNNING, T2, "START", T1, (RunState.RUNNING, T2)),
    ],
)
def test_run_state_transitions(
    current: RunState | None, current_at: str | None, event: str, at: str, expected: tuple[RunState, str]
) -> None:
    assert transition(current, current_at, event, at) == expected
