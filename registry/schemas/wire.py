"""A minimal reader of the Protobuf wire format, to find option extensions without depending on which
extensions the process's default descriptor pool happens to know."""

from __future__ import annotations

from collections.abc import Iterator

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def entries(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """Yield ``(field number, entry start, entry end, value bytes)`` for each top-level entry."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            _, end = _varint(data, pos)
            value = data[pos:end]
        elif wire_type == _FIXED64:
            end = pos + 8
            value = data[pos:end]
        elif wire_type == _FIXED32:
            end = pos + 4
            value = data[pos:end]
        elif wire_type == _LENGTH:
            size, pos = _varint(data, pos)
            end = pos + size
            value = data[pos:end]
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if end > len(data):
            raise ValueError("truncated entry")
        pos = end
        yield number, start, end, value


def field_values(data: bytes, number: int) -> list[bytes]:
    """The raw values of every entry with field ``number``; empty when the bytes do not parse."""
    try:
        return [value for num, _, _, value in entries(data) if num == number]
    except ValueError:
        return []


def without_field(data: bytes, number: int) -> bytes:
    """``data`` with every entry of field ``number`` removed (unchanged when the bytes do not parse)."""
    try:
        return b"".join(data[start:end] for num, start, end, _ in entries(data) if num != number)
    except ValueError:
        return data
