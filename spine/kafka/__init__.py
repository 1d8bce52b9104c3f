"""Thin Kafka client wrappers. Services never build raw confluent-kafka configs themselves."""

from spine.kafka.admin import Admin, TopicDescription, TopicSpec
from spine.kafka.consumer import Consumer
from spine.kafka.errors import KafkaClientError, KafkaUnavailableError
from spine.kafka.producer import DeliveryFuture, Producer, RecordMetadata, TransactionalProducer
from spine.kafka.reader import read_topic

__all__ = [
    "Admin",
    "Consumer",
    "DeliveryFuture",
    "KafkaClientError",
    "KafkaUnavailableError",
    "Producer",
    "RecordMetadata",
    "TopicDescription",
    "TopicSpec",
    "TransactionalProducer",
    "read_topic",
]
