"""What the CDC workers' heartbeats say (see :mod:`spine.runtime.heartbeat`): the router is ``running``
while its poll loop turns; a loop stuck longer than :data:`ROUTER_STALL_S` (a sink retrying for ever, a
hung gate call) is ``stalled`` and so down."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spine.runtime.heartbeat import RUNNING

if TYPE_CHECKING:
    from cdc.router import Router

ROUTER_STALL_S = 60.0


def router_state(
    last_poll: float | None, now: float, stall_after: float = ROUTER_STALL_S
) -> tuple[str, str | None]:
    if last_poll is None:
        return "starting", None
    if now - last_poll > stall_after:
        return "stalled", f"no poll for {now - last_poll:.0f}s"
    return RUNNING, None


def router_probe(router: Router) -> Callable[[], tuple[str, dict[str, Any]]]:
    def probe() -> tuple[str, dict[str, Any]]:
        state, reason = router_state(router.last_poll, time.monotonic())
        detail: dict[str, Any] = {"batches": router.stats.batches, "rows": router.stats.rows}
        if reason:
            detail["reason"] = reason
        return state, detail

    return probe


__all__ = ["ROUTER_STALL_S", "router_probe", "router_state"]
