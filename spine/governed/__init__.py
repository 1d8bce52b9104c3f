"""Governed clients: ``GovernedProducer`` writes validated records to a subject's governed topic in
Confluent's wire format; ``GovernedConsumer`` reads a dataset's topic only as the residency gate allows,
redacted as it decides. Both go through ``spine.kafka`` and ``spine.registry_client`` and never build raw
client configs. Needs the ``governed`` extra (confluent-kafka's serializers, openlineage-python).
"""

from spine.governed.consumer import GovernedConsumer, GovernedRecord, Handler, RetryPolicy
from spine.governed.errors import (
    AccessDenied,
    GovernedError,
    NotGovernedError,
    RecordInvalidError,
    UndecodableRecordError,
)
from spine.governed.producer import GovernedProducer
from spine.governed.topics import governed_topic_specs

__all__ = [
    "AccessDenied",
    "GovernedConsumer",
    "GovernedError",
    "GovernedProducer",
    "GovernedRecord",
    "Handler",
    "NotGovernedError",
    "RecordInvalidError",
    "RetryPolicy",
    "UndecodableRecordError",
    "governed_topic_specs",
]
