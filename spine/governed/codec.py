"""Records to and from Confluent's wire format with confluent-kafka's own serializers and deserializers.

:class:`Encoder` is bound to one registered version (its schema id is the one every record carries) and
validates each record against it; a failure is a :class:`RecordInvalidError` naming the field path.
:class:`Decoder` decodes any schema id of a subject, whatever its type, into a plain dict.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

import fastavro
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro.validation import ValidationError as AvroValidationError
from google.protobuf import json_format, message

from spine.governed.errors import RecordInvalidError, UndecodableRecordError
from spine.registry_client import RegistryClient, SubjectVersion

MAGIC = 0


def schema_id_of(value: bytes | None) -> int | None:
    """The schema id in a Confluent wire-format value, or None when it has no such prefix."""
    if value is None or len(value) < 5 or value[0] != MAGIC:
        return None
    return int.from_bytes(value[1:5], "big")


def _subject_strategy(subject: str) -> Callable[..., str]:
    return lambda _ctx, _record_name: subject


class Encoder:
    """Serialize dicts as ``version``'s schema (its id in the prefix), validating each one."""

    def __init__(self, registry: RegistryClient, version: SubjectVersion) -> None:
        self.version = version
        self.subject = version.subject
        self._to_object: Callable[[Mapping[str, Any]], Any] = dict
        # The serializer looks the schema up once under the subject (``use.schema.id`` would instead resolve
        # rules and tags on every record); the id it finds is checked against the version's on first use.
        conf: dict[str, Any] = {
            "auto.register.schemas": False,
            "subject.name.strategy": _subject_strategy(version.subject),
        }
        self._checked = False
        self._contexts: dict[str, SerializationContext] = {}
        sr = registry.confluent
        kind = version.schema_type
        self._serialize: Callable[[Any, SerializationContext], bytes | None]
        if kind == "AVRO":
            parsed: Any = fastavro.parse_schema(_json(version.schema))
            self._avro = parsed
            # fastavro's own strict mode costs ~4x the write; unknown top-level keys are checked here instead.
            self._fields = frozenset(f["name"] for f in parsed.get("fields", ()))
            self._serialize = AvroSerializer(sr, version.schema, conf=conf)
            self._to_object = self._avro_record
        elif kind == "JSON":
            self._serialize = JSONSerializer(version.schema, sr, conf=conf)
        elif kind == "PROTOBUF":
            cls = registry.protobuf_class(version.schema_id)
            self._proto_cls = cls
            self._to_object = self._proto_message
            self._serialize = ProtobufSerializer(cls, sr, conf={**conf, "use.deprecated.format": False})
        else:
            raise RecordInvalidError(version.subject, "", f"schema type {kind} is not supported")

    def encode(self, record: Mapping[str, Any], topic: str) -> bytes:
        ctx = self._contexts.get(topic)
        if ctx is None:
            ctx = self._contexts[topic] = SerializationContext(topic, MessageField.VALUE)
        try:
            value = self._serialize(self._to_object(record), ctx)
        except RecordInvalidError:
            raise
        except SchemaRegistryError:
            raise
        except Exception as exc:
            raise self._invalid(record, exc) from exc
        if value is None:
            raise RecordInvalidError(self.subject, "", "a record cannot be null")
        if not self._checked:
            found = schema_id_of(value)
            if found != self.version.schema_id:
                raise RecordInvalidError(
                    self.subject, "", f"serialized as schema id {found}, not {self.version.schema_id}"
                )
            self._checked = True
        return value

    def _avro_record(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self._fields.issuperset(record):
            unknown = sorted(str(k) for k in record if k not in self._fields)
            raise RecordInvalidError(self.subject, unknown[0], "is not a field of the schema")
        return record

    def _proto_message(self, record: Mapping[str, Any]) -> message.Message:
        try:
            return json_format.ParseDict(dict(record), self._proto_cls())
        except json_format.ParseError as exc:
            raise RecordInvalidError(self.subject, _proto_path(str(exc)), str(exc)) from exc

    def _invalid(self, record: Mapping[str, Any], exc: Exception) -> RecordInvalidError:
        if self.version.schema_type == "AVRO":
            return _avro_problem(self.subject, self._avro, record, exc)
        if self.version.schema_type == "JSON":
            return _json_problem(self.subject, self.version.schema, record, exc)
        return RecordInvalidError(self.subject, "", str(exc))


class Decoder:
    """Decode the values of ``subject``'s topics, any registered version, into dicts."""

    def __init__(self, registry: RegistryClient, subject: str) -> None:
        self.subject = subject
        self._registry = registry
        sr = registry.confluent
        self._avro = AvroDeserializer(sr)
        self._json = JSONDeserializer(None, schema_registry_client=sr)
        self._kinds: dict[int, str] = {}
        self._proto: dict[int, ProtobufDeserializer] = {}
        self._lock = threading.Lock()

    def decode(self, value: bytes | None, topic: str) -> tuple[int, dict[str, Any]]:
        """``(schema id, record)``; raises :class:`UndecodableRecordError` saying why not."""
        schema_id = schema_id_of(value)
        if schema_id is None or value is None:
            raise UndecodableRecordError("value is not in Confluent's wire format (magic byte 0, schema id)")
        kind = self._kinds.get(schema_id) or self._learn(schema_id)
        ctx = SerializationContext(topic, MessageField.VALUE)
        try:
            if kind == "AVRO":
                decoded = self._avro(value, ctx)
            elif kind == "JSON":
                decoded = self._json(value, ctx)
            else:
                decoded = _message_dict(cast(message.Message, self._proto[schema_id](value, ctx)))
        except Exception as exc:
            raise UndecodableRecordError(f"schema id {schema_id}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(decoded, dict):
            raise UndecodableRecordError(f"schema id {schema_id}: the value is not a record")
        return schema_id, decoded

    def _learn(self, schema_id: int) -> str:
        with self._lock:
            try:
                subjects = self._registry.subjects_of(schema_id)
                if self.subject not in subjects:
                    raise UndecodableRecordError(f"schema id {schema_id} is not a version of {self.subject}")
                kind = self._registry.confluent.get_schema(schema_id).schema_type or "AVRO"
                if kind == "PROTOBUF":
                    cls = self._registry.protobuf_class(schema_id)
                    self._proto[schema_id] = ProtobufDeserializer(cls, {"use.deprecated.format": False})
            except SchemaRegistryError as exc:
                raise UndecodableRecordError(f"schema id {schema_id}: {exc.error_message}") from exc
            self._kinds[schema_id] = kind
            return kind


def _json(text: str) -> Any:
    import json

    return json.loads(text)


def _avro_problem(subject: str, parsed: Any, record: Mapping[str, Any], exc: Exception) -> RecordInvalidError:
    """Find which field failed (fastavro's writer does not say): its validator names the field."""
    try:
        fastavro.validation.validate(record, parsed, raise_errors=True)
    except AvroValidationError as error:
        if error.errors:
            first = error.errors[0]
            name = str(parsed.get("name", "")) if isinstance(parsed, dict) else ""
            path = str(first.field).removeprefix(f"{name}.") if name else str(first.field)
            problem = f"{first.datum!r} is not a valid {_avro_type(first.schema)}"
            return RecordInvalidError(subject, path, problem)
    return RecordInvalidError(subject, "", f"{type(exc).__name__}: {exc}")


def _avro_type(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("name") or schema.get("type"))
    if isinstance(schema, list):
        return " | ".join(_avro_type(s) for s in schema)
    return str(schema)


def _json_problem(subject: str, schema: str, record: Mapping[str, Any], exc: Exception) -> RecordInvalidError:
    import jsonschema

    document = _json(schema)
    validator = jsonschema.validators.validator_for(document)(document)
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(record)))
    if error is None:
        return RecordInvalidError(subject, "", str(exc))
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [r for r in error.validator_value if r not in error.instance]
        if missing:
            path = ".".join([*map(str, error.absolute_path), str(missing[0])])
    return RecordInvalidError(subject, path, error.message)


_PROTO_FIELD = re.compile(r"Failed to parse (\w+) field")
_PROTO_UNKNOWN = re.compile(r'has no field named "(\w+)"')


def _proto_path(text: str) -> str:
    parts = _PROTO_FIELD.findall(text)
    unknown = _PROTO_UNKNOWN.search(text)
    if unknown:
        parts.append(unknown.group(1))
    return ".".join(parts)


def _message_dict(msg: message.Message) -> dict[str, Any]:
    """A message as a dict keyed by field name, with Python values (not JSON's strings for int64)."""
    out: dict[str, Any] = {}
    for field in msg.DESCRIPTOR.fields:
        value = getattr(msg, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {
                k: _message_dict(v) if value_field.message_type is not None else v for k, v in value.items()
            }
        elif field.is_repeated:
            out[field.name] = [_message_dict(v) if field.message_type is not None else v for v in value]
        elif field.message_type is not None:
            out[field.name] = _message_dict(value) if msg.HasField(field.name) else None
        else:
            out[field.name] = value
    return out


__all__ = ["Decoder", "Encoder", "schema_id_of"]
