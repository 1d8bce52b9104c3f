"""The one rule of classification tags every package shares: a dotted tag lies within its prefixes.

``PII.email`` is a ``PII``; ``PIIX`` is not. The residency matrix, the registry's declassification check and
lineage's tag filter all use :func:`within`.
"""

from __future__ import annotations


def within(tag: str, ancestor: str) -> bool:
    """Whether ``tag`` is ``ancestor`` or one of its dotted descendants (``PII.email`` within ``PII``)."""
    return tag == ancestor or tag.startswith(ancestor + ".")


__all__ = ["within"]
