"""Residency gate: deny-by-default policy on every data route, PII redaction, tamper-evident audit log.

It decides and records; it must not move data itself. The pure core (``policy``, ``evaluate``, ``audit``,
``policytest``) imports no web or database code; ``app``/``service``/``storage`` are the service around it,
and ``client`` is what callers use to ask it (failing closed).
"""

__all__ = [
    "app",
    "audit",
    "client",
    "errors",
    "evaluate",
    "policy",
    "policytest",
    "publisher",
    "scan",
    "service",
    "storage",
]
