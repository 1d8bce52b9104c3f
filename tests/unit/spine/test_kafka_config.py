from __future__ import annotations

from spine.kafka.config import consumer_config, producer_config, redacted
from spine.settings import KafkaSettings


def test_consumer_defaults_are_the_measured_broker_settings() -> None:
    conf = consumer_config(KafkaSettings(bootstrap="b:1"), "c", "g")
    assert conf["session.timeout.ms"] == 6000
    assert conf["heartbeat.interval.ms"] == 500
    assert conf["partition.assignment.strategy"] == "range,roundrobin"
    assert conf["fetch.wait.max.ms"] == 100
    assert conf["enable.auto.commit"] is False
    assert "group.protocol" not in conf
    assert conf["group.id"] == "g"


def test_settings_then_call_overrides_win_over_defaults() -> None:
    settings = KafkaSettings(bootstrap="b:1", producer={"linger.ms": 20, "acks": "1"})
    conf = producer_config(settings, "p", {"acks": "all"})
    assert conf["linger.ms"] == 20
    assert conf["acks"] == "all"


def test_redacted_config_hides_the_sasl_password() -> None:
    settings = KafkaSettings(bootstrap="b:1", sasl_username="u", sasl_password="s3cret")
    conf = producer_config(settings, "p")
    assert conf["sasl.password"] == "s3cret"
    assert "s3cret" not in repr(redacted(conf))
