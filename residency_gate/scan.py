"""Finding places that carry governed data but are not in the residency matrix (pure; the CLI does the I/O).

A Kafka topic carries governed data when it is named like a governed topic (``<domain>.<dataset>.v<N>``) or
a CDC topic (``cdc.*``), or is the dead-letter topic of one. It is unlisted when none of the dataset names it
could stand for is a dataset of the matrix. A configured sink is unlisted when the matrix has no such sink.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spine.topics import is_internal, parse_governed_topic

logger = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class Finding:
    """One topic or sink that carries governed data the matrix says nothing about."""

    subject: str
    kind: str  # "topic" or "sink"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "kind": self.kind, "detail": self.detail}


def dataset_candidates(topic: str) -> tuple[str, ...] | None:
    """The dataset names a governed topic could stand for, most specific first; None if not governed."""
    base = topic.removesuffix(DLQ_SUFFIX)
    parsed = parse_governed_topic(base)
    if parsed is not None:
        domain, dataset, _ = parsed
        return (base, f"{domain}.{dataset}", dataset)
    if base.startswith("cdc.") and len(base) > 4:
        rest = base[4:]
        return (base, rest, rest.rsplit(".", 1)[-1])
    return None


def find_unlisted(
    topics: Iterable[str], sinks: Iterable[str], datasets: Iterable[str], matrix_sinks: Iterable[str]
) -> list[Finding]:
    """Topics and sinks that carry governed data but that the matrix does not list, sorted by name."""
    known_datasets = set(datasets)
    known_sinks = set(matrix_sinks)
    findings: list[Finding] = []
    for topic in sorted(set(topics)):
        if is_internal(topic) or topic in known_sinks:
            continue
        candidates = dataset_candidates(topic)
        if candidates is None or known_datasets.intersection(candidates):
            continue
        findings.append(
            Finding(
                topic,
                "topic",
                f"topic {topic} carries governed data but none of {', '.join(candidates)} "
                "is a dataset in the residency matrix",
            )
        )
    for sink in sorted(set(sinks)):
        if sink not in known_sinks:
            detail = f"sink {sink} is configured but not in the residency matrix"
            findings.append(Finding(sink, "sink", detail))
    return findings


def matrix_names(document: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(dataset names, sink names) of a policy document as the gate returns it."""
    datasets = document.get("datasets") or {}
    sinks = document.get("sinks") or {}
    return set(datasets), set(sinks)


__all__ = ["DLQ_SUFFIX", "Finding", "dataset_candidates", "find_unlisted", "matrix_names"]
