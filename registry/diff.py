"""Field-level differences between two versions of a schema, each classed PATCH, MINOR or MAJOR.

Classes follow BACKWARD semantics (can the new schema read data written with the old one); docs and tags
are PATCH. The semver gate decides the version from the whole-schema check, this module explains it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from registry.change import ChangeClass
from registry.compatibility import avro as avro_compat
from registry.compatibility import jsonschema as json_compat
from registry.compatibility import protobuf as proto_compat
from registry.schemas.avro import NAMED, TAGS_KEY, AvroSchema
from registry.schemas.jsonschema import METADATA_KEYWORDS, JsonSchema
from registry.schemas.model import ParsedSchema
from registry.schemas.protobuf import ProtobufSchema, field_tags

logger = logging.getLogger(__name__)

Json = Any
PATCH, MINOR, MAJOR = ChangeClass.PATCH, ChangeClass.MINOR, ChangeClass.MAJOR


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One difference: where, what, and how big."""

    path: str
    description: str
    change: ChangeClass


def diff_schemas(old: ParsedSchema, new: ParsedSchema) -> list[SchemaChange]:
    """Every added, removed or changed element from ``old`` to ``new``, in schema order."""
    if old.schema_type != new.schema_type:
        return [SchemaChange("/", f"schema type changed from {old.schema_type} to {new.schema_type}", MAJOR)]
    if isinstance(old, AvroSchema) and isinstance(new, AvroSchema):
        return _AvroDiff(old, new).walk(old.schema, new.schema, "")
    if isinstance(old, ProtobufSchema) and isinstance(new, ProtobufSchema):
        return _protobuf_diff(old, new)
    if isinstance(old, JsonSchema) and isinstance(new, JsonSchema):
        return _JsonDiff(old, new).walk(old.document, new.document, "")
    return []


def _show(value: Json) -> str:
    return json.dumps(value, sort_keys=True)[:80]


class _AvroDiff:
    def __init__(self, old: AvroSchema, new: AvroSchema) -> None:
        self.old = old
        self.new = new
        self.seen: set[str] = set()

    def classify(self, old_node: Json, new_node: Json, path: str) -> ChangeClass:
        return MAJOR if avro_compat.can_read_node(self.new, self.old, new_node, old_node, path) else MINOR

    def walk(self, old_node: Json, new_node: Json, path: str) -> list[SchemaChange]:
        o, n = self.old.resolve(old_node), self.new.resolve(new_node)
        o_type, n_type = avro_compat.type_name(o), avro_compat.type_name(n)
        where = path or "/"
        if o_type != n_type or (o_type == "union" and [_key(b) for b in o] != [_key(b) for b in n]):
            text = f"type changed from {_describe(o)} to {_describe(n)}"
            return [SchemaChange(where, text, self.classify(old_node, new_node, path))]
        if o_type == "union":
            return [
                c for i, (a, b) in enumerate(zip(o, n, strict=True)) for c in self.walk(a, b, f"{path}/{i}")
            ]
        if o_type == "array":
            return self.walk(o["items"], n["items"], f"{path}/items")
        if o_type == "map":
            return self.walk(o["values"], n["values"], f"{path}/values")
        if o_type not in NAMED:
            o_logical = o.get("logicalType") if isinstance(o, dict) else None
            n_logical = n.get("logicalType") if isinstance(n, dict) else None
            if o_logical != n_logical:
                text = f"logical type changed from {o_logical} to {n_logical}"
                return [SchemaChange(where, text, self.classify(old_node, new_node, path))]
            return []
        changes: list[SchemaChange] = []
        if o["name"] != n["name"]:
            text = f"{o_type} renamed from {o['name']} to {n['name']}"
            changes.append(SchemaChange(f"{path}/name", text, self.classify(o, n, path)))
        if o.get("doc") != n.get("doc"):
            changes.append(SchemaChange(f"{path}/doc", f"doc of {n['name']} changed", PATCH))
        if n["name"] in self.seen:
            return changes
        self.seen.add(n["name"])
        if o_type == "enum":
            changes.extend(self._enum(o, n, path))
        elif o_type == "fixed" and o["size"] != n["size"]:
            changes.append(
                SchemaChange(f"{path}/size", f"size changed from {o['size']} to {n['size']}", MAJOR)
            )
        elif o_type in ("record", "error"):
            changes.extend(self._record(o, n, path))
        return changes

    def _enum(self, o: Json, n: Json, path: str) -> list[SchemaChange]:
        changes = [
            SchemaChange(f"{path}/symbols/{s}", f"enum symbol {s} added", MINOR)
            for s in n["symbols"]
            if s not in o["symbols"]
        ]
        removed = [s for s in o["symbols"] if s not in n["symbols"]]
        if removed:
            cls = self.classify(o, n, path)
            changes.extend(
                SchemaChange(f"{path}/symbols/{s}", f"enum symbol {s} removed", cls) for s in removed
            )
        if o.get("default") != n.get("default"):
            text = f"enum default changed from {o.get('default')} to {n.get('default')}"
            changes.append(SchemaChange(f"{path}/default", text, MINOR))
        return changes

    def _record(self, o: Json, n: Json, path: str) -> list[SchemaChange]:
        changes: list[SchemaChange] = []
        old_fields = {f["name"]: f for f in o["fields"]}
        matched: set[str] = set()
        for field in n["fields"]:
            field_path = f"{path}/fields/{field['name']}"
            names = [field["name"], *field.get("aliases", [])]
            before = next((old_fields[name] for name in names if name in old_fields), None)
            if before is None:
                cls = MINOR if "default" in field else MAJOR
                extra = "with a default" if "default" in field else "without a default"
                changes.append(SchemaChange(field_path, f"field {field['name']} added {extra}", cls))
                continue
            matched.add(before["name"])
            if before["name"] != field["name"]:
                text = f"field {before['name']} renamed to {field['name']} (alias kept)"
                changes.append(SchemaChange(field_path, text, MINOR))
            changes.extend(self._field(before, field, field_path))
        for name in old_fields:
            if name not in matched:
                changes.append(SchemaChange(f"{path}/fields/{name}", f"field {name} removed", MINOR))
        return changes

    def _field(self, before: Json, after: Json, path: str) -> list[SchemaChange]:
        changes: list[SchemaChange] = []
        name = after["name"]
        if before.get("doc") != after.get("doc"):
            changes.append(SchemaChange(f"{path}/doc", f"doc of field {name} changed", PATCH))
        if before.get(TAGS_KEY) != after.get(TAGS_KEY):
            text = (
                f"tags of field {name} changed from {before.get(TAGS_KEY, [])} to {after.get(TAGS_KEY, [])}"
            )
            changes.append(SchemaChange(f"{path}/{TAGS_KEY}", text, PATCH))
        if before.get("default", ...) != after.get("default", ...):
            old_default = _show(before["default"]) if "default" in before else "none"
            new_default = _show(after["default"]) if "default" in after else "none"
            text = f"default of field {name} changed from {old_default} to {new_default}"
            changes.append(SchemaChange(f"{path}/default", text, MINOR))
        if set(before.get("aliases", [])) != set(after.get("aliases", [])):
            changes.append(SchemaChange(f"{path}/aliases", f"aliases of field {name} changed", MINOR))
        changes.extend(self.walk(before["type"], after["type"], f"{path}/type"))
        return changes


def _key(node: Json) -> str:
    return avro_compat.type_name(node) if not isinstance(node, str) or node in NAMED else node


def _describe(node: Json) -> str:
    if isinstance(node, list):
        return "[" + ", ".join(_describe(b) for b in node) + "]"
    if isinstance(node, dict) and node["type"] in NAMED:
        return str(node["name"])
    return avro_compat.type_name(node)


def _protobuf_diff(old: ProtobufSchema, new: ProtobufSchema) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    refused = [c for c in proto_compat.differences(old, new) if not c.compatible]

    def problems(path: str) -> list[proto_compat.Change]:
        return [c for c in refused if c.path == path or c.path.startswith(path + "/")]

    for name, message in new.messages.items():
        if name not in old.messages and name in new.own_types:
            changes.append(
                SchemaChange(proto_compat.message_path(new, name), f"message {message.name} added", MINOR)
            )
    for name, message in old.messages.items():
        path = proto_compat.message_path(old, name)
        after = new.messages.get(name)
        if after is None and name not in old.own_types:
            continue
        if after is None:
            cls = MAJOR if any(c.path == path for c in refused) else MINOR
            changes.append(SchemaChange(path, f"message {message.name} removed", cls))
            continue
        old_fields = {f.number: f for f in message.field}
        new_fields = {f.number: f for f in after.field}
        for number, field in new_fields.items():
            if number not in old_fields:
                field_path = f"{path}/fields/{field.name}"
                cls = MAJOR if problems(field_path) else MINOR
                changes.append(SchemaChange(field_path, f"field {field.name} ({number}) added", cls))
        for number, field in old_fields.items():
            field_path = f"{path}/fields/{field.name}"
            if number not in new_fields:
                cls = MAJOR if problems(field_path) else MINOR
                changes.append(SchemaChange(field_path, f"field {field.name} ({number}) removed", cls))
                continue
            later = new_fields[number]
            found = problems(f"{path}/fields/{later.name}")
            changes.extend(SchemaChange(p.path, p.incompatibility().message, MAJOR) for p in found)
            if not found and proto_compat.type_label(field) != proto_compat.type_label(later):
                text = f"field {field.name} ({number}) changed type from {proto_compat.type_label(field)} to "
                changes.append(
                    SchemaChange(f"{field_path}/type", text + proto_compat.type_label(later), MINOR)
                )
            if field_tags(field) != field_tags(later):
                tags = f"from {list(field_tags(field))} to {list(field_tags(later))}"
                text = f"tags of field {field.name} changed {tags}"
                changes.append(SchemaChange(f"{field_path}/tags", text, PATCH))
    for name, enum in new.enums.items():
        path = proto_compat.message_path(new, name).replace("/messages/", "/enums/")
        before = old.enums.get(name)
        if before is None and name not in new.own_types:
            continue
        if before is None:
            changes.append(SchemaChange(path, f"enum {enum.name} added", MINOR))
            continue
        old_values = {v.number: v.name for v in before.value}
        new_values = {v.number: v.name for v in enum.value}
        for number, value in new_values.items():
            if number not in old_values:
                changes.append(SchemaChange(f"{path}/values/{value}", f"enum value {value} added", MINOR))
        for number, value in old_values.items():
            if number not in new_values:
                changes.append(SchemaChange(f"{path}/values/{value}", f"enum value {value} removed", MINOR))
    return changes


class _JsonDiff:
    def __init__(self, old: JsonSchema, new: JsonSchema) -> None:
        self.old = old
        self.new = new
        self.seen: set[tuple[int, int]] = set()

    def classify(self, old_node: Json, new_node: Json, path: str) -> ChangeClass:
        return MAJOR if json_compat.can_read_node(self.new, self.old, new_node, old_node, path) else MINOR

    def walk(self, old_node: Json, new_node: Json, path: str) -> list[SchemaChange]:
        o, n = self.old.resolve(old_node), self.new.resolve(new_node)
        if (id(o), id(n)) in self.seen:
            return []
        self.seen.add((id(o), id(n)))
        if not isinstance(o, dict) or not isinstance(n, dict):
            if o == n:
                return []
            return [
                SchemaChange(
                    path or "/", f"schema changed from {_show(o)} to {_show(n)}", self.classify(o, n, path)
                )
            ]
        changes: list[SchemaChange] = []
        for key in sorted(set(o) | set(n)):
            before, after = o.get(key), n.get(key)
            if before == after:
                continue
            where = f"{path}/{key}"
            if key in METADATA_KEYWORDS:
                changes.append(SchemaChange(where, f"{key} changed", PATCH))
            elif key == "properties" and isinstance(before, dict) and isinstance(after, dict):
                changes.extend(self._properties(o, n, before, after, path))
            elif key == "required":
                changes.extend(self._required(before, after, path))
            elif (
                key in ("items", "additionalProperties", "not")
                and isinstance(before, dict)
                and isinstance(after, dict)
            ):
                changes.extend(self.walk(before, after, where))
            elif key in ("$defs", "definitions"):
                continue
            else:
                was, now = (_show(before) if key in o else "none"), (_show(after) if key in n else "none")
                text = f"{key} changed from {was} to {now}"
                changes.append(SchemaChange(where, text, self.classify(_only(o, key), _only(n, key), path)))
        return changes

    def _properties(self, o: Json, n: Json, before: Json, after: Json, path: str) -> list[SchemaChange]:
        changes: list[SchemaChange] = []
        refused = {i.path for i in json_compat.can_read_node(self.new, self.old, n, o, path)}
        for name in after:
            if name not in before:
                where = f"{path}/properties/{name}"
                cls = MAJOR if _under(refused, where) else MINOR
                changes.append(SchemaChange(where, f"property {name} added", cls))
        for name, schema in before.items():
            where = f"{path}/properties/{name}"
            if name in after:
                changes.extend(self.walk(schema, after[name], where))
            else:
                cls = MAJOR if _under(refused, where) else MINOR
                changes.append(SchemaChange(where, f"property {name} removed", cls))
        return changes

    def _required(self, before: Json, after: Json, path: str) -> list[SchemaChange]:
        old_names = set(before) if isinstance(before, list) else set()
        new_names = set(after) if isinstance(after, list) else set()
        return [
            *(
                SchemaChange(f"{path}/required/{n}", f"property {n} made required", MAJOR)
                for n in sorted(new_names - old_names)
            ),
            *(
                SchemaChange(f"{path}/required/{n}", f"property {n} made optional", MINOR)
                for n in sorted(old_names - new_names)
            ),
        ]


def _under(paths: set[str], where: str) -> bool:
    return any(p == where or p.startswith(where + "/") for p in paths)


def _only(node: dict[str, Json], key: str) -> dict[str, Json]:
    return {key: node[key]} if key in node else {}


__all__ = ["SchemaChange", "diff_schemas"]
