"""Topic names: internal ``_spine.*``, governed ``<domain>.<dataset>.v<major>``, and ``.dlq`` topics."""

from __future__ import annotations

import re

from spine.errors import ConfigError

SCHEMAS = "_spine.schemas"
AUDIT = "_spine.audit"
LINEAGE = "_spine.lineage"
INTERNAL_TOPICS = (SCHEMAS, AUDIT, LINEAGE)

_PART = re.compile(r"^[a-z][a-z0-9_-]*$")
_GOVERNED = re.compile(r"^(?P<domain>[a-z][a-z0-9_-]*)\.(?P<dataset>[a-z][a-z0-9_-]*)\.v(?P<major>[0-9]+)$")
_KAFKA_CHAR = re.compile(r"[a-zA-Z0-9._-]")
MAX_TOPIC_LENGTH = 249


def governed_topic(domain: str, dataset: str, major: int) -> str:
    """``orders.payments.v2``: a new MAJOR schema version means a new topic."""
    for label, part in (("domain", domain), ("dataset", dataset)):
        if not _PART.match(part):
            raise ConfigError(f"topic {label} {part!r} must match {_PART.pattern}")
    if major < 1:
        raise ConfigError(f"topic major version must be >= 1, got {major}")
    return f"{domain}.{dataset}.v{major}"


def parse_governed_topic(topic: str) -> tuple[str, str, int] | None:
    """Split a governed topic name into (domain, dataset, major), or None if it is not one."""
    match = _GOVERNED.match(topic)
    if match is None:
        return None
    return match["domain"], match["dataset"], int(match["major"])


def dlq_topic(source: str) -> str:
    """The dead-letter topic for a source topic or route."""
    return f"{source}.dlq"


def is_internal(topic: str) -> bool:
    return topic.startswith("_spine.") or topic.startswith("__")


def topic_name_problem(topic: str) -> str | None:
    """Why Kafka would refuse ``topic`` as a topic name (naming the first bad character), or None."""
    if not topic:
        return "a Kafka topic name cannot be empty"
    if topic in {".", ".."}:
        return f"{topic!r} cannot be a Kafka topic name"
    for position, char in enumerate(topic):
        if not _KAFKA_CHAR.fullmatch(char):
            return f"character U+{ord(char):04X} at position {position} cannot appear in a Kafka topic name"
    if len(topic) > MAX_TOPIC_LENGTH:
        return f"a Kafka topic name has at most {MAX_TOPIC_LENGTH} characters, this one has {len(topic)}"
    return None


def validate_topic_name(topic: str) -> str:
    problem = topic_name_problem(topic)
    if problem is not None:
        raise ConfigError(f"topic name {topic!r} is not a legal Kafka topic name: {problem}")
    return topic


__all__ = [
    "AUDIT",
    "INTERNAL_TOPICS",
    "LINEAGE",
    "MAX_TOPIC_LENGTH",
    "SCHEMAS",
    "dlq_topic",
    "governed_topic",
    "is_internal",
    "parse_governed_topic",
    "topic_name_problem",
    "validate_topic_name",
]
