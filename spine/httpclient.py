"""Bases for objects closed by ``close()`` or by leaving a ``with`` block (and owning an httpx client)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class Closeable:
    """A base for objects closed by ``close()`` or by leaving a ``with`` block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class OwnsHttpClient(Closeable):
    _http: httpx.Client

    def close(self) -> None:
        self._http.close()


__all__ = ["Closeable", "OwnsHttpClient"]
