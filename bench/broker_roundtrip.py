"""Broker round trip: the spine's Kafka wrappers against raw confluent-kafka with the same settings.

Prints produce and consume throughput and end-to-end latency p50/p95 for both, measured in the same run
(interleaved rounds, medians), and the wrapper/raw ratio (goal >= 0.95). Starts its own embedded broker
unless SPINE_KAFKA_BOOTSTRAP is set.

    python bench/broker_roundtrip.py [--records 100000] [--size 200] [--rounds 3] [--latency-samples 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import confluent_kafka

from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Admin, Consumer, Producer, TopicSpec
from spine.kafka.config import consumer_config, producer_config
from spine.settings import KafkaSettings, load_settings


def produce_wrapper(settings: KafkaSettings, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    producer = Producer(settings)
    start = time.perf_counter()
    for key, value in payloads:
        producer.send(topic, value, key)
    producer.flush()
    return len(payloads) / (time.perf_counter() - start)


def produce_raw(settings: KafkaSettings, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    producer = confluent_kafka.Producer(producer_config(settings, "bench-raw"))
    failures = 0

    def on_delivery(err: Any, msg: Any) -> None:
        nonlocal failures
        if err is not None:
            failures += 1

    start = time.perf_counter()
    for key, value in payloads:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush()
    elapsed = time.perf_counter() - start
    assert failures == 0, f"{failures} raw deliveries failed"
    return len(payloads) / elapsed


def consume_wrapper(settings: KafkaSettings, topic: str, count: int) -> float:
    consumer = Consumer(settings, f"bench-{uuid.uuid4().hex[:8]}")
    consumer.subscribe([topic])
    got, start = 0, 0.0
    while got < count:
        batch = consumer.consume(500, 1.0)
        if batch and not start:
            start = time.perf_counter()
        got += len(batch)
    elapsed = time.perf_counter() - start
    consumer.close()
    return count / elapsed


def consume_raw(settings: KafkaSettings, topic: str, count: int) -> float:
    consumer = confluent_kafka.Consumer(
        consumer_config(settings, "bench-raw", f"bench-{uuid.uuid4().hex[:8]}")
    )
    consumer.subscribe([topic])
    got, start = 0, 0.0
    while got < count:
        batch = [m for m in consumer.consume(500, 1.0) if m.error() is None]
        if batch and not start:
            start = time.perf_counter()
        got += len(batch)
    elapsed = time.perf_counter() - start
    consumer.close()
    return count / elapsed


def latency(settings: KafkaSettings, admin: Admin, samples: int, *, raw: bool) -> tuple[float, float]:
    """Send one record at a time and time it until a consumer in another thread sees it (ms p50, p95)."""
    topic = f"bench.latency.{uuid.uuid4().hex[:8]}"
    admin.create_topics([TopicSpec(topic)])
    seen: dict[int, float] = {}
    ready = threading.Event()
    stop = threading.Event()

    def consume() -> None:
        group = f"bench-{uuid.uuid4().hex[:8]}"
        if raw:
            consumer: Any = confluent_kafka.Consumer(consumer_config(settings, "bench-raw", group))
        else:
            consumer = Consumer(settings, group)
        consumer.subscribe([topic])
        while not stop.is_set():
            msg = consumer.poll(0.1)
            if msg is None:
                continue
            if raw and msg.error() is not None:
                continue
            index = int(msg.value())
            if index < 0:
                ready.set()
            else:
                seen[index] = time.perf_counter()
        consumer.close()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    sent: dict[int, float] = {}
    if raw:
        producer: Any = confluent_kafka.Producer(producer_config(settings, "bench-raw"))

        def send(value: bytes) -> None:
            producer.produce(topic, value)
            producer.poll(0)
    else:
        wrapped = Producer(settings)

        def send(value: bytes) -> None:
            wrapped.send(topic, value)

    while not ready.is_set():  # wait until the consumer has joined and reads
        send(b"-1")
        ready.wait(0.5)
    for i in range(samples):
        sent[i] = time.perf_counter()
        send(str(i).encode())
        time.sleep(0.004)
    deadline = time.monotonic() + 10
    while len(seen) < samples and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    if raw:
        producer.flush(10)
    else:
        wrapped.close(10)
    admin.delete_topics([topic])
    delays = sorted((seen[i] - sent[i]) * 1000 for i in sent if i in seen)
    if len(delays) < samples:
        raise RuntimeError(f"only {len(delays)} of {samples} latency samples arrived")
    return statistics.median(delays), delays[int(0.95 * (len(delays) - 1))]


def interleaved(rounds: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[float, float]:
    results_a, results_b = [], []
    for _ in range(rounds):
        results_a.append(a())
        results_b.append(b())
    return statistics.median(results_a), statistics.median(results_b)


def run(args: argparse.Namespace, settings: KafkaSettings) -> dict[str, Any]:
    admin = Admin(settings)
    payloads = [(f"key-{i % 1000}".encode(), (b"x" * args.size)) for i in range(args.records)]
    topics: list[str] = []

    def fresh_topic() -> str:
        name = f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
        admin.create_topics([TopicSpec(name, partitions=4)])
        topics.append(name)
        return name

    produce = interleaved(
        args.rounds,
        lambda: produce_wrapper(settings, fresh_topic(), payloads),
        lambda: produce_raw(settings, fresh_topic(), payloads),
    )
    source = topics[0]
    consume = interleaved(
        args.rounds,
        lambda: consume_wrapper(settings, source, args.records),
        lambda: consume_raw(settings, source, args.records),
    )
    admin.delete_topics(topics)
    lat_wrapper = latency(settings, admin, args.latency_samples, raw=False)
    lat_raw = latency(settings, admin, args.latency_samples, raw=True)
    return {
        "records": args.records,
        "record_bytes": args.size,
        "rounds": args.rounds,
        "produce_per_s": {"wrapper": produce[0], "raw": produce[1], "ratio": produce[0] / produce[1]},
        "consume_per_s": {"wrapper": consume[0], "raw": consume[1], "ratio": consume[0] / consume[1]},
        "latency_ms": {
            "wrapper": {"p50": lat_wrapper[0], "p95": lat_wrapper[1]},
            "raw": {"p50": lat_raw[0], "p95": lat_raw[1]},
            "ratio_p50": lat_raw[0] / lat_wrapper[0],
            "ratio_p95": lat_raw[1] / lat_wrapper[1],
        },
    }


def report(result: dict[str, Any]) -> None:
    print(
        f"broker round trip: {result['records']} records x {result['record_bytes']} B, "
        f"median of {result['rounds']} interleaved rounds (ratio = wrapper vs raw, goal >= 0.95)"
    )
    print(f"{'figure':<22}{'wrapper':>14}{'raw':>14}{'ratio':>9}")
    for name in ("produce_per_s", "consume_per_s"):
        row = result[name]
        print(f"{name:<22}{row['wrapper']:>14,.0f}{row['raw']:>14,.0f}{row['ratio']:>9.3f}")
    lat = result["latency_ms"]
    for pct in ("p50", "p95"):
        print(
            f"{'e2e latency ' + pct + ' ms':<22}{lat['wrapper'][pct]:>14.1f}{lat['raw'][pct]:>14.1f}"
            f"{lat['ratio_' + pct]:>9.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings(KafkaSettings)
    broker = None
    if not settings.bootstrap:
        broker = EmbeddedBroker(free_port())
        broker.start()
        settings = KafkaSettings(bootstrap=broker.bootstrap)
    try:
        result = run(args, settings)
    finally:
        if broker is not None:
            broker.stop()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)


if __name__ == "__main__":
    main()
