"""A compiled pipeline as a topology: the source's rows pushed through operators to the sinks (pure).

Built from a manifest's steps. A step's output feeds every step whose ``upstream`` it is, so a source can
fan out. :meth:`Topology.push` returns what reached each sink and which rows an expectation rejected; the
runner writes those (I/O). Counters per step (rows in, rows out, seconds) feed the run's metrics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oml.runtime.operators import Expectations, Operator, Rejection, Row, WindowAggregate, build_operator


@dataclass
class StepStats:
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    seconds: float = 0.0


@dataclass
class Result:
    writes: dict[str, list[Row]] = field(default_factory=dict)  # sink step id -> rows
    rejections: list[Rejection] = field(default_factory=list)


class Topology:
    def __init__(self, steps: Sequence[Mapping[str, Any]]) -> None:
        self.steps = {s["id"]: s for s in steps}
        sources = [s["id"] for s in steps if s["mode"] == "read"]
        if len(sources) != 1:
            raise ValueError(f"a topology runs one source; this pipeline has {len(sources)}")
        self.source = sources[0]
        self.children: dict[str, list[str]] = {s["id"]: [] for s in steps}
        for s in steps:
            if s["upstream"] is not None:
                self.children[s["upstream"]].append(s["id"])
        self.operators: dict[str, Operator] = {
            s["id"]: build_operator(s) for s in steps if s["mode"] == "transform"
        }
        self.sinks = [s["id"] for s in steps if s["mode"] == "write"]
        self.stats = {s["id"]: StepStats() for s in steps}

    def push(self, rows: Sequence[Row]) -> Result:
        result = Result({sink: [] for sink in self.sinks})
        self.stats[self.source].rows_in += len(rows)
        self.stats[self.source].rows_out += len(rows)
        for child in self.children[self.source]:
            self._feed(child, list(rows), result)
        return result

    def drain(self) -> Result:
        """Close every open window (end of a bounded run) and push what they release downstream."""
        result = Result({sink: [] for sink in self.sinks})
        for step_id, operator in self.operators.items():
            released = operator.drain()
            self.stats[step_id].rows_out += len(released)
            for child in self.children[step_id]:
                self._feed(child, released, result)
        return result

    @property
    def stateful(self) -> bool:
        """Whether a window or a unique-in-window expectation holds state across batches."""
        return any(
            isinstance(s, WindowAggregate)
            or (isinstance(s, Expectations) and any(e.get("expect") == "unique_in_window"
                                                    for e in self.steps[i]["config"]["expectations"]))
            for i, s in self.operators.items()
        )  # fmt: skip

    def state(self) -> dict[str, Any]:
        """Every stateful operator's state by step id (JSON values)."""
        states = {step_id: op.state() for step_id, op in self.operators.items()}
        return {step_id: s for step_id, s in states.items() if s is not None}

    def restore(self, states: Mapping[str, Any]) -> None:
        for step_id, state in states.items():
            if step_id in self.operators:
                self.operators[step_id].restore(state)

    def _feed(self, step_id: str, rows: list[Row], result: Result) -> None:
        if not rows:
            return
        stats = self.stats[step_id]
        stats.rows_in += len(rows)
        operator = self.operators.get(step_id)
        if operator is None:
            result.writes[step_id].extend(rows)
            stats.rows_out += len(rows)
            return
        started = time.perf_counter()
        out: list[Row] = []
        for row in rows:
            produced = operator.process(row)
            if isinstance(produced, Rejection):
                result.rejections.append(produced)
                stats.rejected += 1
            else:
                out.extend(produced)
        stats.seconds += time.perf_counter() - started
        stats.rows_out += len(out)
        for child in self.children[step_id]:
            self._feed(child, out, result)


__all__ = ["Result", "StepStats", "Topology"]
