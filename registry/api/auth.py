"""Who calls a publishing route: a producer, or security (which may also declassify), or admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from registry.service import Actor
from spine.auth import Role, TokenStore


def publisher(tokens: TokenStore) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency admitting producer, security and admin tokens, answering the :class:`Actor`."""

    async def guard(request: Request) -> Actor:
        header = request.headers.get("authorization")
        principal = tokens.authorize(header, Role.PRODUCER, Role.SECURITY)
        return Actor(principal.name, principal.has_any((Role.SECURITY,)), header or "")

    return guard


__all__ = ["publisher"]
