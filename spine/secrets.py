"""Secrets in configuration files: written only as ``${NAME}`` references to the environment.

One implementation for every file format that carries connection settings (CDC route files, OML
connections): find the references, substitute them from an environment mapping passed in (pure), find the
password part of a URL, and mask it for display.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MASKED = "***"


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly one ``${NAME}`` reference."""
    return ENV_REF.fullmatch(text) is not None


def env_names(value: object) -> list[str]:
    """The environment variables ``value`` refers to, in order (none for a non-string)."""
    return ENV_REF.findall(value) if isinstance(value, str) else []


def substitute_env(text: str, env: Mapping[str, str]) -> str:
    """``text`` with each ``${NAME}`` replaced from ``env``; raises ``KeyError(NAME)`` for a missing one."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise KeyError(name)
        return env[name]

    return ENV_REF.sub(one, text)


def url_password(value: str) -> str | None:
    """The password part of a URL (``scheme://user:pw@host``), or None."""
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def mask_url(url: str) -> str:
    """``url`` with its password (if any) shown as :data:`MASKED`."""
    password = url_password(url)
    if password is None:
        return url
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", f":{MASKED}@", 1)).geturl()


__all__ = ["ENV_REF", "MASKED", "env_names", "is_reference", "mask_url", "substitute_env", "url_password"]
