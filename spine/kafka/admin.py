"""Topic administration: create (explicitly, with every config a reader needs), describe, list, delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from spine.kafka.config import ConfigValue, admin_config
from spine.kafka.errors import KafkaClientError, KafkaUnavailableError, translate
from spine.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = 1
    replication_factor: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TopicDescription:
    name: str
    partitions: int
    config: dict[str, str]


class Admin:
    """A thin wrapper over ``AdminClient``; every failure becomes a :class:`KafkaClientError`."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        client_id: str = "spine-admin",
        overrides: Mapping[str, ConfigValue] | None = None,
    ) -> None:
        self._admin = AdminClient(admin_config(settings, client_id, overrides))

    def create_topics(
        self, specs: Iterable[TopicSpec], *, exist_ok: bool = True, timeout: float = 30.0
    ) -> None:
        new = [
            NewTopic(
                s.name,
                num_partitions=s.partitions,
                replication_factor=s.replication_factor,
                config=dict(s.config),
            )
            for s in specs
        ]
        if not new:
            return
        futures = self._admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if exist_ok and isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise translate(exc, f"create topic {name}") from exc

    def delete_topics(self, names: Iterable[str], *, missing_ok: bool = True, timeout: float = 30.0) -> None:
        wanted = list(names)
        if not wanted:
            return
        futures = self._admin.delete_topics(wanted, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if (
                    missing_ok
                    and isinstance(err, KafkaError)
                    and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
                ):
                    continue
                raise translate(exc, f"delete topic {name}") from exc

    def list_topics(self, timeout: float = 10.0) -> set[str]:
        try:
            metadata = self._admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise translate(exc, "list topics") from exc
        return set(metadata.topics)

    def describe_topic(self, name: str, timeout: float = 10.0) -> TopicDescription:
        try:
            metadata = self._admin.list_topics(topic=name, timeout=timeout)
            topic = metadata.topics.get(name)
            if topic is None or topic.error is not None:
                raise KafkaClientError(f"describe topic {name}: no such topic", code="UNKNOWN_TOPIC_OR_PART")
            resource = ConfigResource(ConfigResource.Type.TOPIC, name)
            configs = self._admin.describe_configs([resource], request_timeout=timeout)[resource].result(
                timeout
            )
        except KafkaException as exc:
            raise translate(exc, f"describe topic {name}") from exc
        return TopicDescription(
            name=name,
            partitions=len(topic.partitions),
            config={key: str(entry.value) for key, entry in configs.items() if entry.value is not None},
        )

    def topic_id(self, name: str, timeout: float = 10.0) -> str | None:
        """The topic's id (a deleted and recreated topic gets a new one), or None when it does not exist."""
        future = self._admin.describe_topics(TopicCollection([name]), request_timeout=timeout)[name]
        try:
            return str(future.result(timeout + 1.0).topic_id)
        except TimeoutError as exc:
            raise KafkaUnavailableError(f"describe topic {name}: no answer within {timeout:g}s") from exc
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return None
            raise translate(exc, f"describe topic {name}") from exc

    def ping(self, timeout: float = 2.0) -> None:
        """Raise :class:`KafkaUnavailableError` unless the cluster answers a metadata request."""
        try:
            self._admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise KafkaUnavailableError(f"broker did not answer a metadata request: {exc}") from exc


__all__ = ["Admin", "TopicDescription", "TopicSpec"]
