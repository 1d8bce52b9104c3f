"""Schema registry: Confluent-compatible REST API, SQL storage, compatibility checks, semver gate, linting.

It owns schemas and their versions; it must not decide residency (that is the residency gate's job).
"""

from registry.errors import RegistryError

__all__ = ["RegistryError"]
