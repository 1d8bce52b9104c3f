"""Translation of confluent-kafka errors into the spine's exception tree, in one place."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from spine.errors import SpineError, UnavailableError


class KafkaClientError(SpineError):
    """A Kafka operation failed; ``code`` is librdkafka's error code name."""

    def __init__(self, message: str, *, code: str = "UNKNOWN", retriable: bool = False, fatal: bool = False):
        super().__init__(message)
        self.code = code
        self.retriable = retriable
        self.fatal = fatal


class KafkaUnavailableError(KafkaClientError, UnavailableError):
    """The broker could not be reached in time."""


_UNAVAILABLE = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._TIMED_OUT,
    KafkaError._RESOLVE,
}


def from_kafka_error(err: KafkaError, context: str) -> KafkaClientError:
    """Build the spine error for a KafkaError met while doing ``context``."""
    code = err.code()
    cls = KafkaUnavailableError if code in _UNAVAILABLE else KafkaClientError
    return cls(
        f"{context}: {err.str()}",
        code=err.name(),
        retriable=err.retriable(),
        fatal=err.fatal(),
    )


def translate(exc: KafkaException, context: str) -> KafkaClientError:
    arg = exc.args[0] if exc.args else None
    if isinstance(arg, KafkaError):
        return from_kafka_error(arg, context)
    return KafkaClientError(f"{context}: {exc}")


__all__ = ["KafkaClientError", "KafkaUnavailableError", "from_kafka_error", "translate"]
