"""A base for objects that own one ``httpx.Client``: closed by ``close()`` or by leaving a ``with`` block."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class OwnsHttpClient:
    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["OwnsHttpClient"]
