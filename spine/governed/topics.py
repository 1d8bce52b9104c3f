"""What makes a topic governed: a registered subject and a dataset the residency matrix knows (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spine.governed.errors import NotGovernedError
from spine.kafka import TopicSpec
from spine.topics import dlq_topic, parse_governed_topic


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str
    home: str | None
    classification: str | None
    subject: str | None


def subject_base(subject: str) -> str:
    """``sales.orders-value`` -> ``sales.orders`` (the topic and dataset name the subject stands for)."""
    for suffix in ("-value", "-key"):
        if subject.endswith(suffix):
            return subject[: -len(suffix)]
    return subject


def topic_base(topic: str) -> str:
    """``sales.orders.v2`` -> ``sales.orders``; the name unchanged when it has no ``.v<N>``."""
    head, dot, major = topic.rpartition(".v")
    return head if dot and major.isdigit() else topic


def topic_major(topic: str) -> int | None:
    head, dot, major = topic.rpartition(".v")
    return int(major) if dot and head and major.isdigit() else None


def subject_for_topic(topic: str) -> str:
    """The value subject of a governed topic (``<base>.v<major>`` is named from ``<base>-value``)."""
    return f"{topic_base(topic)}-value"


def find_dataset(policy: Mapping[str, Any], subject: str) -> DatasetInfo:
    """The matrix dataset of ``subject``: the one linked to it, else the one named like it; else refuse."""
    document = policy.get("document")
    datasets = document.get("datasets") if isinstance(document, Mapping) else None
    if not isinstance(datasets, Mapping):
        raise NotGovernedError("the residency policy in force lists no datasets")
    linked = [n for n, d in datasets.items() if isinstance(d, Mapping) and d.get("subject") == subject]
    name = linked[0] if linked else subject_base(subject)
    entry = datasets.get(name)
    if not isinstance(entry, Mapping):
        raise NotGovernedError(
            f"subject {subject} is not governed: no dataset of the residency matrix (version "
            f"{policy.get('version')}) is linked to it or named {name}"
        )
    return DatasetInfo(
        name=str(name),
        home=_text(entry.get("home")),
        classification=_text(entry.get("classification")),
        subject=_text(entry.get("subject")),
    )


def is_governed_name(topic: str) -> bool:
    return parse_governed_topic(topic) is not None or topic_major(topic) is not None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = [
    "DatasetInfo",
    "dlq_topic",
    "find_dataset",
    "governed_topic_specs",
    "is_governed_name",
    "subject_base",
    "subject_for_topic",
    "topic_base",
    "topic_major",
]


# Every config a reader checks is set explicitly (the embedded broker reports only configs that were set).
_DATA_CONFIG = {"cleanup.policy": "delete", "retention.ms": str(7 * 24 * 3600 * 1000)}
_DLQ_CONFIG = {"cleanup.policy": "delete", "retention.ms": str(30 * 24 * 3600 * 1000)}


def governed_topic_specs(topic: str, partitions: int = 3) -> list[TopicSpec]:
    """The governed topic and its ``.dlq`` (one partition: dead letters are few and replayed in order)."""
    return [
        TopicSpec(topic, partitions, config=dict(_DATA_CONFIG)),
        TopicSpec(dlq_topic(topic), 1, config=dict(_DLQ_CONFIG)),
    ]
