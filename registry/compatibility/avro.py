"""Avro compatibility by the specification's schema-resolution rules (reader vs writer).

Covers promotions (int->long->float->double, string<->bytes), record fields matched by name or alias with
defaults for fields the writer lacks, enum symbols and enum defaults, unions on either side, fixed size,
arrays, maps and named-type names (with aliases). Recursive types are visited once per reader/writer pair.
"""

from __future__ import annotations

import logging
from typing import Any

from registry.compatibility.model import Incompatibility
from registry.schemas.avro import NAMED, AvroSchema
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)

PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}

Json = Any


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why data written with ``writer`` cannot be read with ``reader``."""
    assert isinstance(reader, AvroSchema)
    assert isinstance(writer, AvroSchema)
    return _Resolver(reader, writer).check(reader.schema, writer.schema, "")


def can_read_node(
    reader: AvroSchema, writer: AvroSchema, reader_node: Json, writer_node: Json, path: str
) -> list[Incompatibility]:
    """Like :func:`can_read` for one node of each schema (used to class individual changes)."""
    return _Resolver(reader, writer).check(reader_node, writer_node, path)


def type_name(node: Json) -> str:
    """The Avro type of a normalized node: a primitive, a named type's kind, 'array', 'map' or 'union'."""
    if isinstance(node, list):
        return "union"
    if isinstance(node, str):
        return node
    return str(node["type"])


def _describe(node: Json) -> str:
    if isinstance(node, dict) and node["type"] in NAMED:
        return f"{node['type']} {node['name']}"
    if isinstance(node, list):
        return "union [" + ", ".join(_describe(branch) for branch in node) + "]"
    return type_name(node)


class _Resolver:
    def __init__(self, reader: AvroSchema, writer: AvroSchema) -> None:
        self.reader = reader
        self.writer = writer
        self.visiting: set[tuple[str, str]] = set()

    def check(self, reader: Json, writer: Json, path: str) -> list[Incompatibility]:
        reader = self.reader.resolve(reader)
        writer = self.writer.resolve(writer)
        if isinstance(writer, list):
            return self._writer_union(reader, writer, path)
        if isinstance(reader, list):
            return self._reader_union(reader, writer, path)
        r_type, w_type = type_name(reader), type_name(writer)
        if r_type != w_type:
            if r_type in PROMOTIONS.get(w_type, frozenset()):
                return []
            return [self._type_mismatch(reader, writer, path)]
        if r_type in NAMED:
            return self._named(reader, writer, path)
        if r_type == "array":
            return self.check(reader["items"], writer["items"], f"{path}/items")
        if r_type == "map":
            return self.check(reader["values"], writer["values"], f"{path}/values")
        return _logical(reader, writer, path)

    def _type_mismatch(self, reader: Json, writer: Json, path: str) -> Incompatibility:
        return Incompatibility(
            path or "/",
            f"reader type {_describe(reader)} cannot read writer type {_describe(writer)}",
            "type-mismatch",
        )

    def _writer_union(self, reader: Json, writer: list[Json], path: str) -> list[Incompatibility]:
        found: list[Incompatibility] = []
        for index, branch in enumerate(writer):
            problems = self.check(reader, branch, f"{path}/{index}" if isinstance(reader, list) else path)
            if problems and not isinstance(reader, list):
                found.append(
                    Incompatibility(
                        path or "/",
                        f"writer union branch {_describe(self.writer.resolve(branch))} cannot be read "
                        f"as {_describe(reader)}",
                        "union-branch-missing",
                    )
                )
            else:
                found.extend(problems)
        return found

    def _reader_union(self, reader: list[Json], writer: Json, path: str) -> list[Incompatibility]:
        branches = [self.reader.resolve(branch) for branch in reader]
        w_type = type_name(writer)
        same = [b for b in branches if type_name(b) == w_type and _same_name(b, writer)]
        candidates = same if w_type in NAMED else same or [b for b in branches if type_name(b) == w_type]
        candidates += [b for b in branches if type_name(b) in PROMOTIONS.get(w_type, frozenset())]
        for branch in candidates:
            if not self.check(branch, writer, path):
                return []
        if candidates:
            return self.check(candidates[0], writer, path)
        return [
            Incompatibility(
                path or "/",
                f"writer type {_describe(writer)} matches no branch of reader {_describe(reader)}",
                "union-branch-missing",
            )
        ]

    def _named(self, reader: Json, writer: Json, path: str) -> list[Incompatibility]:
        if not _same_name(reader, writer):
            return [
                Incompatibility(
                    f"{path}/name" if path else "/name",
                    f"reader {reader['type']} {reader['name']} does not match writer name {writer['name']} "
                    "(neither name nor alias)",
                    "name-mismatch",
                )
            ]
        key = (str(reader["name"]), str(writer["name"]))
        if key in self.visiting:
            return []
        self.visiting.add(key)
        try:
            if reader["type"] == "enum":
                return self._enum(reader, writer, path)
            if reader["type"] == "fixed":
                if reader["size"] != writer["size"]:
                    return [
                        Incompatibility(
                            f"{path}/size",
                            f"fixed {reader['name']} has size {reader['size']} but the writer's has "
                            f"size {writer['size']}",
                            "fixed-size-changed",
                        )
                    ]
                return _logical(reader, writer, path)
            return self._record(reader, writer, path)
        finally:
            self.visiting.discard(key)

    def _enum(self, reader: Json, writer: Json, path: str) -> list[Incompatibility]:
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            return [
                Incompatibility(
                    f"{path}/symbols",
                    f"enum {reader['name']} lacks writer symbols {', '.join(missing)} and has no default",
                    "enum-symbol-missing",
                )
            ]
        return []

    def _record(self, reader: Json, writer: Json, path: str) -> list[Incompatibility]:
        writer_fields = {field["name"]: field for field in writer["fields"]}
        found: list[Incompatibility] = []
        for field in reader["fields"]:
            field_path = f"{path}/fields/{field['name']}"
            names = [field["name"], *field.get("aliases", [])]
            match = next((writer_fields[name] for name in names if name in writer_fields), None)
            if match is not None:
                found.extend(self.check(field["type"], match["type"], f"{field_path}/type"))
            elif "default" not in field:
                found.append(
                    Incompatibility(
                        field_path,
                        f"reader field {field['name']!r} of {reader['name']} is missing from the writer's "
                        "record and has no default",
                        "field-missing-without-default",
                    )
                )
        return found


def _logical(reader: Json, writer: Json, path: str) -> list[Incompatibility]:
    """Both sides annotate the same physical type with different meanings (e.g. millis vs micros)."""
    r = reader if isinstance(reader, dict) else {}
    w = writer if isinstance(writer, dict) else {}
    r_logical, w_logical = r.get("logicalType"), w.get("logicalType")
    if r_logical is None or w_logical is None:
        return []
    if r_logical != w_logical:
        message = f"logical type {r_logical} in the reader but {w_logical} in the writer"
        return [Incompatibility(f"{path}/logicalType", message, "logical-type-changed")]
    if r_logical == "decimal" and r.get("scale", 0) != w.get("scale", 0):
        message = f"decimal scale {r.get('scale', 0)} in the reader but {w.get('scale', 0)} in the writer"
        return [Incompatibility(f"{path}/scale", message, "decimal-scale-changed")]
    return []


def _same_name(reader: Json, writer: Json) -> bool:
    if not (isinstance(reader, dict) and isinstance(writer, dict)) or reader["type"] not in NAMED:
        return True
    names = {reader["name"], *reader.get("aliases", [])}
    short = {name.rpartition(".")[2] for name in names}
    return writer["name"] in names or writer["name"].rpartition(".")[2] in short
