"""Residency gate: deny-by-default policy on every data route, PII redaction, tamper-evident audit log.

It decides and records; it must not move data itself.
"""
