"""Shared core of Data Spine: settings, Kafka client wrappers, topic names, headers, errors, logging, auth.

It holds what every service needs and nothing else; no service logic lives here.
"""

from spine.errors import ConfigError, ExitCode, SpineError, UnavailableError

__all__ = ["ConfigError", "ExitCode", "SpineError", "UnavailableError"]
__version__ = "0.1.0"
