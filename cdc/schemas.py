"""Pure: a routed table's Avro value schema from Debezium's Connect column types, with the route's tags.

The change topic's envelope carries the row's Connect schema when schemas are enabled (the ``after`` or
``before`` struct). :func:`value_schema` turns it into an Avro record: a column Debezium marks optional
becomes ``["null", T]`` with default null (so an added nullable column is a MINOR change), a required
column has no default (so dropping it is breaking), and the route's field tags are the field's
``confluent:tags``. Debezium's logical names map to Avro logical types where Avro has one; decimals
arrive as strings (``decimal.handling.mode=string``), so they are strings here too. The registry, not
this module, classifies a change between two versions, except one rule the registry's BACKWARD level
does not see: a dropped column without a default (:func:`dropped_without_default`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cdc.routes import Route

_PRIMITIVE: dict[str, str] = {
    "int8": "int",
    "int16": "int",
    "int32": "int",
    "int64": "long",
    "float32": "float",
    "float64": "double",
    "boolean": "boolean",
    "string": "string",
    "bytes": "bytes",
}
# Debezium / Kafka Connect logical names whose Avro logical type says the same thing.
_LOGICAL: dict[str, tuple[str, str]] = {
    "io.debezium.time.Date": ("int", "date"),
    "org.apache.kafka.connect.data.Date": ("int", "date"),
    "io.debezium.time.Time": ("int", "time-millis"),
    "io.debezium.time.MicroTime": ("long", "time-micros"),
    "io.debezium.time.Timestamp": ("long", "timestamp-millis"),
    "org.apache.kafka.connect.data.Timestamp": ("long", "timestamp-millis"),
    "io.debezium.time.MicroTimestamp": ("long", "timestamp-micros"),
    "io.debezium.data.Uuid": ("string", "uuid"),
}
_AVRO_NAME = re.compile(r"[^A-Za-z0-9_]")


class SchemaBuildError(ValueError):
    """The envelope's column schema cannot be expressed as Avro (a type this module does not know)."""


def row_fields(envelope_schema: Any) -> tuple[Mapping[str, Any], ...]:
    """The Connect fields of the row struct (``after``, else ``before``) of an envelope's ``schema``."""
    if not isinstance(envelope_schema, Mapping):
        return ()
    for part in envelope_schema.get("fields", ()):
        if isinstance(part, Mapping) and part.get("field") in {"after", "before"}:
            return tuple(f for f in part.get("fields", ()) if isinstance(f, Mapping) and "field" in f)
    return ()


def avro_name(text: str) -> str:
    """``text`` as an Avro name (letters, digits, underscores; not starting with a digit)."""
    name = _AVRO_NAME.sub("_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


def avro_type(field: Mapping[str, Any]) -> Any:
    """The Avro type of one Connect field, without the null branch."""
    connect = str(field.get("type", ""))
    logical = field.get("name")
    if isinstance(logical, str) and logical in _LOGICAL:
        base, logical_type = _LOGICAL[logical]
        if _PRIMITIVE.get(connect) != base:
            raise SchemaBuildError(f"column {field.get('field')}: {logical} on Connect type {connect}")
        return {"type": base, "logicalType": logical_type}
    if connect in _PRIMITIVE:
        primitive = _PRIMITIVE[connect]
        return {"type": primitive, "connect.name": logical} if isinstance(logical, str) else primitive
    if connect == "array":
        items = field.get("items")
        if not isinstance(items, Mapping):
            raise SchemaBuildError(f"column {field.get('field')}: array without items")
        inner = avro_type(items)
        return {"type": "array", "items": ["null", inner] if items.get("optional") else inner}
    raise SchemaBuildError(f"column {field.get('field')}: Connect type {connect or '?'} is not supported")


def value_schema(source_name: str, route: Route, fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The Avro record of ``route``'s table (source column names, in the table's order)."""
    schema_name, table = route.table.split(".")
    out: list[dict[str, Any]] = []
    for field in fields:
        name = str(field["field"])
        kind = avro_type(field)
        entry: dict[str, Any] = {"name": name, "doc": f"Column {name} of {route.table}."}
        if field.get("optional", False):
            entry["type"] = ["null", kind]
            entry["default"] = None
        else:
            entry["type"] = kind
        tags = route.fields.get(name)
        if tags:
            entry["confluent:tags"] = list(tags)
        out.append(entry)
    return {
        "type": "record",
        "name": avro_name(f"{schema_name}_{table}"),
        "namespace": f"spine.cdc.{avro_name(source_name)}",
        "doc": f"Rows of {route.table} routed as dataset {route.dataset} (route {route.route_name}).",
        "fields": out,
    }


def dropped_without_default(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The fields of ``old`` that ``new`` lacks and that had no default: a reader of the old schema cannot
    read the new rows, so the change is breaking for a CDC route (the registry's default BACKWARD level
    allows it, which is why the route checks it itself)."""
    kept = {f.get("name") for f in new.get("fields", ())}
    return [str(f["name"]) for f in old.get("fields", ()) if f.get("name") not in kept and "default" not in f]


def canonical(schema: Mapping[str, Any]) -> str:
    """The schema's text as registered (stable key order, so one table shape is one text)."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def subject(topic: str) -> str:
    """The value subject of a change topic (Confluent's TopicNameStrategy)."""
    return f"{topic}-value"


__all__ = [
    "SchemaBuildError",
    "avro_name",
    "avro_type",
    "canonical",
    "dropped_without_default",
    "row_fields",
    "subject",
    "value_schema",
]
