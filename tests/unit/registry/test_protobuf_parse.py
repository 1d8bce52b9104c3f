"""Parsing Protobuf text and serialized descriptors with protoc; tags from (confluent.field_meta)."""

from __future__ import annotations

import base64

import pytest
from google.protobuf import descriptor_pb2

from registry.errors import InvalidSchemaError
from registry.schemas import SchemaType, TaggedField, parse_schema
from registry.schemas.protobuf import ProtobufSchema
from tests.unit.registry.helpers import proto, proto_message

USER = """
syntax = "proto3";
package com.example;
import "confluent/meta.proto";
import "google/protobuf/timestamp.proto";

// A user.
message User {
  string id = 1;
  string email = 2 [(confluent.field_meta).tags = "PII", (confluent.field_meta).tags = "PII.email"];
  Address address = 3;
  google.protobuf.Timestamp created_at = 4;
}

message Address {
  string country = 1 [(confluent.field_meta) = {tags: ["PII.location"]}];
}
"""


def test_text_parses_with_well_known_types_and_confluent_meta_without_references() -> None:
    parsed = proto(USER)
    assert isinstance(parsed, ProtobufSchema)
    assert [name for name, _ in parsed.top_level_messages()] == [".com.example.User", ".com.example.Address"]


def test_tags_are_read_from_field_meta_with_dotted_paths() -> None:
    assert proto(USER).tagged_fields() == [
        TaggedField("email", ("PII", "PII.email")),
        TaggedField("address.country", ("PII.location",)),
    ]


def test_whitespace_and_comments_do_not_change_canonical() -> None:
    squeezed = " ".join(line for line in USER.splitlines() if not line.startswith("//"))
    assert proto(squeezed).canonical() == proto(USER).canonical()


def test_tags_change_canonical_but_not_canonical_without_docs() -> None:
    option = ' [(confluent.field_meta).tags = "PII", (confluent.field_meta).tags = "PII.email"]'
    untagged = USER.replace(option, "")
    assert proto(untagged).canonical() != proto(USER).canonical()
    assert proto(untagged).canonical_without_docs() == proto(USER).canonical_without_docs()


def test_serialized_descriptor_round_trips_to_the_same_canonical_and_tags() -> None:
    text = proto(USER)
    serialized = text.formatted("serialized")
    again = parse_schema(SchemaType.PROTOBUF, serialized)
    assert again.canonical() == text.canonical()
    assert again.tagged_fields() == text.tagged_fields()
    assert again.formatted("serialized") == serialized


def test_serialized_descriptor_without_json_names_matches_text() -> None:
    parsed = proto_message("  string user_id = 1;")
    assert isinstance(parsed, ProtobufSchema)
    bare = descriptor_pb2.FileDescriptorProto()
    bare.CopyFrom(parsed.file)
    bare.name = "user.proto"
    bare.message_type[0].field[0].ClearField("json_name")
    again = parse_schema("PROTOBUF", base64.b64encode(bare.SerializeToString()).decode())
    assert again.canonical() == parsed.canonical()


def test_imports_resolve_from_references_in_text_and_serialized_form() -> None:
    other = 'syntax = "proto3"; package com.other; message Ref { int32 y = 1; }'
    main = 'syntax = "proto3"; import "other.proto"; message A { com.other.Ref r = 1; }'
    parsed = proto(main, {"other.proto": other})
    assert isinstance(parsed, ProtobufSchema)
    assert ".com.other.Ref" in parsed.messages
    serialized_ref = proto(other).formatted("serialized")
    assert proto(main, {"other.proto": serialized_ref}).canonical() == parsed.canonical()


def test_missing_import_is_reported_in_one_line() -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        proto('syntax = "proto3"; import "missing.proto"; message A { B b = 1; }')
    message = str(caught.value)
    assert "\n" not in message
    assert "missing.proto" in message
    assert "/tmp" not in message


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InvalidSchemaError, match=r"schema\.proto:1:44: Expected \";\""):
        proto('syntax = "proto3"; message A { int32 x = 1 }')


@pytest.mark.parametrize(
    "text",
    [
        "",
        'syntax = "proto3";',
        "message {",
        'syntax = "proto3"; message A { int32 x = 1; int32 y = 1; }',
        'syntax = "proto3"; message A { Unknown x = 1; }',
        'syntax = "proto3"; enum E { A = 1; } message M { E e = 1; }',
        "Zm9vYmFy",
    ],
)
def test_malformed_protobuf_raises_invalid_schema(text: str) -> None:
    with pytest.raises(InvalidSchemaError):
        proto(text)


@pytest.mark.parametrize("name", ["/etc/passwd", "../up.proto", ""])
def test_reference_names_must_be_relative_import_paths(name: str) -> None:
    with pytest.raises(InvalidSchemaError, match="import path"):
        proto('syntax = "proto3"; message A { int32 x = 1; }', {name: 'syntax = "proto3";'})


def test_serialized_schema_with_serialized_reference_is_validated_in_process() -> None:
    other = proto('syntax = "proto3"; package com.other; message Ref { int32 y = 1; }').formatted(
        "serialized"
    )
    main = proto(
        'syntax = "proto3"; import "other.proto"; message A { com.other.Ref r = 1; }',
        {"other.proto": other},
    ).formatted("serialized")
    parsed = proto(main, {"other.proto": other})
    assert isinstance(parsed, ProtobufSchema)
    assert ".com.other.Ref" in parsed.messages
    with pytest.raises(InvalidSchemaError, match=r"'other\.proto' is not among the references"):
        proto(main)


def test_serialized_descriptor_with_unresolvable_type_is_invalid() -> None:
    bad = descriptor_pb2.FileDescriptorProto(name="bad.proto", syntax="proto3")
    message = bad.message_type.add(name="M")
    message.field.add(
        name="x", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE, type_name=".Nope"
    )
    with pytest.raises(InvalidSchemaError, match="Nope"):
        proto(base64.b64encode(bad.SerializeToString()).decode())


def test_serialized_schema_with_text_reference_compiles_through_protoc() -> None:
    other = 'syntax = "proto3"; message Ref { int32 y = 1; }'
    main = proto('syntax = "proto3"; import "other.proto"; message A { Ref r = 1; }', {"other.proto": other})
    again = proto(main.formatted("serialized"), {"other.proto": other})
    assert again.canonical() == main.canonical()


PROTO2 = """
syntax = "proto2";
package x.y;
option java_package = "com.x";
message A {
  optional int32 a = 1 [default = 5, deprecated = true];
  required string b = 2 [default = "hi\\"x"];
  repeated int32 c = 3 [packed = true];
  oneof o { string d = 4; int64 e = 5; }
  map<string, A> m = 6;
  extensions 100 to 199;
  reserved 10, 12 to 15;
  reserved "zz";
  enum E { option allow_alias = true; E0 = 0; E1 = 1; E2 = 1; reserved 5 to 7; }
  optional E ee = 7 [default = E1];
  optional bytes bb = 8 [default = "\\001"];
}
extend A { optional int32 ext = 100; }
service S { rpc Call(A) returns (stream A); }
"""


@pytest.mark.parametrize("text", [USER, PROTO2, 'syntax = "proto3"; message B { optional string s = 1; }'])
def test_serialized_registration_is_shown_as_equivalent_proto_text(text: str) -> None:
    serialized = proto(text).formatted("serialized")
    shown = proto(serialized).formatted(None)
    assert shown.startswith("syntax = ")
    assert proto(shown).canonical() == proto(text).canonical()
    assert proto(shown).tagged_fields() == proto(text).tagged_fields()


def test_text_registration_is_shown_as_submitted() -> None:
    assert proto(USER).formatted(None) == USER


def test_google_common_types_resolve_without_references_as_confluent_clients_expect() -> None:
    text = (
        'syntax = "proto3"; import "google/type/date.proto"; import "google/type/money.proto";'
        "message Order { google.type.Date placed_on = 1; google.type.Money total = 2; }"
    )
    parsed = proto(text)
    assert isinstance(parsed, ProtobufSchema)
    assert {".google.type.Date", ".google.type.Money"} <= set(parsed.messages)
    assert proto(parsed.formatted("serialized")).canonical() == parsed.canonical()
