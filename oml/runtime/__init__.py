"""Running a compiled pipeline as a stream topology on governed topics.

The topology (:mod:`oml.runtime.topology`, :mod:`oml.runtime.operators`) is pure; :mod:`oml.runtime.runner`
wires it to a :class:`spine.governed.GovernedConsumer` (gate check, decoding, redaction; a consumer group,
so a pipeline scales by partitions across processes), the governed producer and SQL tables, and writes the
run's logs. quixstreams is not used: its releases need confluent-kafka < 2.13 and the spine needs >= 2.16.
"""

from oml.runtime.operators import Rejection, Row
from oml.runtime.topology import Result, Topology

__all__ = ["Rejection", "Result", "Row", "Topology"]
