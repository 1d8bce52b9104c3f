"""OML v0.1.0 validation: the example validates; each invalid document breaks one rule and gets its code."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from oml.connections import Connections, parse_connections
from oml.errors import OmlCode, OmlInvalidError
from oml.validate import validate

EXAMPLES = Path(__file__).parents[3] / "examples" / "pipelines"
ENV = {"SPINE_TOKEN": "tok-123", "DB_PASSWORD": "pw-456"}
CONNECTIONS_TEXT = """
connections:
  kafka:
    local: {default: true, bootstrap: "127.0.0.1:9092", token: "${SPINE_TOKEN}"}
  sql:
    analytics: {url: "sqlite:///a.db"}
    warehouse: {url: "postgresql://spine@db/wh", password: "${DB_PASSWORD}"}
"""

BASE: dict[str, Any] = {
    "oml_version": "0.1.0",
    "name": "orders",
    "params": {"min": 10},
    "steps": [
        {
            "id": "src",
            "component": "kafka.governed_source",
            "mode": "read",
            "config": {"dataset": "sales.orders", "region": "us-east", "connection": "@kafka.local"},
        },
        {
            "id": "keep",
            "component": "transform.filter",
            "mode": "transform",
            "needs": ["src"],
            "config": {"where": "amount > ${params.min}"},
        },
        {
            "id": "check",
            "component": "quality.expectations",
            "mode": "transform",
            "inputs": {"records": "${keep.output.records}"},
            "config": {"expectations": [{"expect": "not_null", "column": "id"}]},
        },
        {
            "id": "sink",
            "component": "sql.table_sink",
            "mode": "write",
            "needs": ["check"],
            "config": {"table": "t", "key": ["id"], "sink": "analytics-us", "connection": "@sql.analytics"},
        },
    ],
}

Mutation = Callable[[dict[str, Any]], None]


def _connections() -> Connections:
    connections, issues = parse_connections(CONNECTIONS_TEXT, "connections.yaml")
    assert issues == []
    return connections


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _parts(path)
        target: Any = doc
        for part in parents:
            target = target[part]
        target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _parts(path)
        target: Any = doc
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


def _parts(path: str) -> list[str | int]:
    out: list[str | int] = []
    for chunk in path.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            out.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            out.append(int(index))
            rest = rest.removeprefix("[")
    return out


CASES: list[tuple[str, Mutation, OmlCode, str]] = [
    ("missing oml_version", _delete("oml_version"), OmlCode.MISSING_KEY, "oml_version"),
    ("wrong oml_version", _set("oml_version", "0.2.0"), OmlCode.UNSUPPORTED_VERSION, "oml_version"),
    ("oml_version not a string", _set("oml_version", 0.1), OmlCode.UNSUPPORTED_VERSION, "oml_version"),
    ("missing name", _delete("name"), OmlCode.MISSING_KEY, "name"),
    ("name with spaces", _set("name", "My Pipeline"), OmlCode.INVALID_NAME, "name"),
    ("missing steps", _delete("steps"), OmlCode.MISSING_KEY, "steps"),
    ("empty steps", _set("steps", []), OmlCode.EMPTY_STEPS, "steps"),
    ("steps a mapping", _set("steps", {"a": 1}), OmlCode.WRONG_TYPE, "steps"),
    ("forbidden version", _set("version", 1), OmlCode.FORBIDDEN_KEY, "version"),
    ("forbidden connectors", _set("connectors", []), OmlCode.FORBIDDEN_KEY, "connectors"),
    ("forbidden tasks", _set("tasks", []), OmlCode.FORBIDDEN_KEY, "tasks"),
    ("forbidden outputs", _set("outputs", {}), OmlCode.FORBIDDEN_KEY, "outputs"),
    ("unknown top-level key", _set("schedule", "daily"), OmlCode.UNKNOWN_KEY, "schedule"),
    ("params a list", _set("params", [1]), OmlCode.WRONG_TYPE, "params"),
    ("step not a mapping", _set("steps[1]", "filter"), OmlCode.NOT_A_MAPPING, "steps[1]"),
    ("step without id", _delete("steps[1].id"), OmlCode.MISSING_KEY, "steps[1].id"),
    ("step id with a dot", _set("steps[1].id", "a.b"), OmlCode.INVALID_NAME, "steps[1].id"),
    ("duplicate step id", _set("steps[2].id", "keep"), OmlCode.DUPLICATE_STEP_ID, "steps[2].id"),
    ("step without component", _delete("steps[1].component"), OmlCode.MISSING_KEY, "steps[1].component"),
    (
        "unknown component",
        _set("steps[1].component", "mysql.extractor"),
        OmlCode.UNKNOWN_COMPONENT,
        "steps[1].component",
    ),
    ("step without mode", _delete("steps[1].mode"), OmlCode.MISSING_KEY, "steps[1].mode"),
    ("invalid mode", _set("steps[1].mode", "extract"), OmlCode.INVALID_MODE, "steps[1].mode"),
    ("mode the component lacks", _set("steps[1].mode", "write"), OmlCode.MODE_MISMATCH, "steps[1].mode"),
    ("step without config", _delete("steps[1].config"), OmlCode.MISSING_KEY, "steps[1].config"),
    ("config a string", _set("steps[1].config", "x > 1"), OmlCode.WRONG_TYPE, "steps[1].config"),
    ("unknown step key", _set("steps[1].retries", 3), OmlCode.UNKNOWN_KEY, "steps[1].retries"),
    (
        "config misses a required key",
        _delete("steps[3].config.table"),
        OmlCode.CONFIG_INVALID,
        "steps[3].config",
    ),
    (
        "config has an unknown key",
        _set("steps[0].config.topic", "raw"),
        OmlCode.CONFIG_INVALID,
        "steps[0].config",
    ),
    (
        "config value of the wrong type",
        _set("steps[3].config.key", "id"),
        OmlCode.CONFIG_INVALID,
        "steps[3].config.key",
    ),
    (
        "expectation of an unknown kind",
        _set("steps[2].config.expectations[0].expect", "sorted"),
        OmlCode.CONFIG_INVALID,
        "steps[2].config.expectations[0].expect",
    ),
    (
        "range without bounds",
        _set("steps[2].config.expectations[0]", {"expect": "range", "column": "a"}),
        OmlCode.CONFIG_INVALID,
        "steps[2].config.expectations[0]",
    ),
    (
        "needs an unknown step",
        _set("steps[1].needs", ["nope"]),
        OmlCode.UNKNOWN_STEP_REFERENCE,
        "steps[1].needs[0]",
    ),
    ("needs not a list", _set("steps[1].needs", "src"), OmlCode.WRONG_TYPE, "steps[1].needs"),
    ("needs itself", _set("steps[1].needs", ["keep"]), OmlCode.SELF_REFERENCE, "steps[1].needs[0]"),
    (
        "input not a reference",
        _set("steps[2].inputs.records", "keep"),
        OmlCode.BAD_INPUT_REFERENCE,
        "steps[2].inputs.records",
    ),
    (
        "input of an unknown output",
        _set("steps[2].inputs.records", "${keep.output.df}"),
        OmlCode.BAD_INPUT_REFERENCE,
        "steps[2].inputs.records",
    ),
    (
        "input of an unknown step",
        _set("steps[2].inputs.records", "${gone.output.records}"),
        OmlCode.UNKNOWN_STEP_REFERENCE,
        "steps[2].inputs.records",
    ),
    (
        "inputs a list",
        _set("steps[2].inputs", ["${keep.output.records}"]),
        OmlCode.WRONG_TYPE,
        "steps[2].inputs",
    ),
    ("transform without input", _delete("steps[1].needs"), OmlCode.MISSING_INPUT, "steps[1]"),
    ("read step with input", _set("steps[0].needs", ["keep"]), OmlCode.UNEXPECTED_INPUT, "steps[0].needs"),
    ("two input streams", _set("steps[3].needs", ["check", "keep"]), OmlCode.UNEXPECTED_INPUT, "steps[3]"),
    ("cycle", _set("steps[1].needs", ["check"]), OmlCode.CYCLE, "steps[1]"),
    (
        "unknown parameter",
        _set("steps[1].config.where", "a > ${params.max}"),
        OmlCode.UNKNOWN_PARAM,
        "steps[1].config.where",
    ),
    (
        "invalid SQL expression",
        _set("steps[1].config.where", "amount >"),
        OmlCode.INVALID_EXPRESSION,
        "steps[1].config.where",
    ),
    (
        "SQL statement instead of an expression",
        _set("steps[1].config.where", "1; DROP TABLE t"),
        OmlCode.INVALID_EXPRESSION,
        "steps[1].config.where",
    ),
    (
        "invalid regex",
        _set("steps[2].config.expectations[0]", {"expect": "regex", "column": "a", "pattern": "("}),
        OmlCode.INVALID_PATTERN,
        "steps[2].config.expectations[0].pattern",
    ),
    (
        "invalid JSON Schema",
        _set("steps[2].config.expectations[0]", {"expect": "matches_schema", "schema": {"type": 12}}),
        OmlCode.CONFIG_INVALID,
        "steps[2].config.expectations[0].schema",
    ),
    (
        "malformed connection reference",
        _set("steps[3].config.connection", "sql.analytics"),
        OmlCode.BAD_CONNECTION_REFERENCE,
        "steps[3].config.connection",
    ),
    (
        "unknown connection alias",
        _set("steps[3].config.connection", "@sql.nowhere"),
        OmlCode.UNKNOWN_CONNECTION,
        "steps[3].config.connection",
    ),
    (
        "connection of another family",
        _set("steps[3].config.connection", "@kafka.local"),
        OmlCode.CONNECTION_FAMILY,
        "steps[3].config.connection",
    ),
    (
        "inline secret",
        _set("steps[3].config.connection", {"url": "sqlite:///x.db", "password": "hunter2"}),
        OmlCode.INLINE_SECRET,
        "steps[3].config.connection.password",
    ),
    (
        "inline secret in a URL",
        _set("steps[3].config.connection", {"url": "postgresql://u:hunter2@db/x"}),
        OmlCode.INLINE_SECRET,
        "steps[3].config.connection.url",
    ),
    (
        "no connection and no default",
        _delete("steps[3].config.connection"),
        OmlCode.NO_CONNECTION,
        "steps[3].config.connection",
    ),
]


def _render(mutate: Mutation) -> str:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_base_document_is_valid() -> None:
    pipeline = validate(_render(lambda d: None), connections=_connections(), env=ENV)
    assert [s.id for s in pipeline.steps] == ["src", "keep", "check", "sink"]
    assert pipeline.step("keep").config["where"] == "amount > 10"


def test_there_are_at_least_thirty_invalid_documents() -> None:
    assert len(CASES) >= 30
    assert len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(("mutate", "code", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_document_is_refused_with_its_code_and_path(
    mutate: Mutation, code: OmlCode, path: str
) -> None:
    text = _render(mutate)
    with pytest.raises(OmlInvalidError) as caught:
        validate(text, source="p.yaml", connections=_connections(), env=ENV)
    issues = caught.value.issues
    assert [(i.code, i.path) for i in issues] == [(code, path)], issues
    assert issues[0].line is not None
    assert issues[0].message
    assert str(caught.value).startswith(f"p.yaml:{issues[0].line}: {path}:")


def test_line_numbers_point_at_the_offending_value() -> None:
    text = (
        "oml_version: '0.1.0'\nname: p\nsteps:\n"
        "  - id: a\n    component: nope\n    mode: read\n    config: {}\n"
    )
    with pytest.raises(OmlInvalidError) as caught:
        validate(text)
    [issue] = caught.value.issues
    assert (issue.code, issue.path, issue.line) == (OmlCode.UNKNOWN_COMPONENT, "steps[0].component", 5)


def test_yaml_syntax_error_names_its_line() -> None:
    with pytest.raises(OmlInvalidError) as caught:
        validate("oml_version: '0.1.0'\nname: [unclosed\n")
    [issue] = caught.value.issues
    assert issue.code is OmlCode.YAML_SYNTAX
    assert issue.line is not None


def test_duplicate_key_is_refused_not_overwritten() -> None:
    with pytest.raises(OmlInvalidError) as caught:
        validate(_render(lambda d: None) + "name: other\n", connections=_connections(), env=ENV)
    assert [(i.code, i.path) for i in caught.value.issues] == [(OmlCode.DUPLICATE_KEY, "name")]


def test_missing_environment_variable_of_a_secret_is_refused() -> None:
    text = _render(_set("steps[3].config.connection", "@sql.warehouse"))
    with pytest.raises(OmlInvalidError) as caught:
        validate(text, connections=_connections(), env={"SPINE_TOKEN": "x"})
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == (OmlCode.MISSING_ENV, "steps[3].config.connection")
    assert "DB_PASSWORD" in issue.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("connections:\n  sql:\n    w: {url: 'sqlite:///x', password: hunter2}\n", OmlCode.LITERAL_SECRET),
        ("connections:\n  sql:\n    w: {url: 'postgresql://u:hunter2@h/d'}\n", OmlCode.LITERAL_SECRET),
        (
            "connections:\n  sql:\n    a: {default: true, url: x}\n    b: {default: true, url: y}\n",
            OmlCode.CONNECTIONS_FILE,
        ),
        ("hosts: []\n", OmlCode.CONNECTIONS_FILE),
    ],
)
def test_connections_file_problems(text: str, code: OmlCode) -> None:
    _, issues = parse_connections(text, "c.yaml")
    assert [i.code for i in issues] == [code]


def test_connection_precedence_inline_alias_default_environment() -> None:
    env = {**ENV, "OML_SQL_URL": "sqlite:///env.db", "OML_SQL_SCHEMA": "env_schema"}
    connections, _ = parse_connections(
        "connections:\n  kafka:\n    local: {default: true, bootstrap: b}\n"
        "  sql:\n    d: {default: true, url: 'sqlite:///default.db', pool: 2}\n"
        "    named: {url: 'sqlite:///named.db'}\n",
        "c.yaml",
    )
    by_default = validate(_render(_delete("steps[3].config.connection")), connections=connections, env=env)
    conn = by_default.step("sink").connection
    assert conn is not None
    assert conn.fields == {"url": "sqlite:///default.db", "schema": "env_schema", "pool": 2}
    assert conn.origins == {"url": "default", "schema": "environment", "pool": "default"}
    inline = {"from": "@sql.named", "pool": 5}
    by_alias = validate(_render(_set("steps[3].config.connection", inline)), connections=connections, env=env)
    conn = by_alias.step("sink").connection
    assert conn is not None
    assert conn.alias == "named"
    assert conn.fields == {"url": "sqlite:///named.db", "schema": "env_schema", "pool": 5}
    assert conn.origins == {"url": "alias", "schema": "environment", "pool": "inline"}


def test_secret_values_are_masked_and_substituted_only_on_demand() -> None:
    pipeline = validate(
        _render(_set("steps[3].config.connection", "@sql.warehouse")), connections=_connections(), env=ENV
    )
    conn = pipeline.step("sink").connection
    assert conn is not None
    assert conn.masked()["fields"]["password"] == "***"
    assert conn.values(ENV)["password"] == "pw-456"
    assert "pw-456" not in repr(conn)


def test_the_shipped_example_validates() -> None:
    connections, issues = parse_connections((EXAMPLES / "connections.yaml").read_text(), "connections.yaml")
    assert issues == []
    pipeline = validate(
        (EXAMPLES / "orders-analytics.oml.yaml").read_text(),
        connections=connections,
        env={"SPINE_TOKEN": "t"},
    )
    assert pipeline.name == "orders-analytics"
    assert {s.component for s in pipeline.steps} >= {"kafka.governed_source", "sql.table_sink"}


@pytest.mark.parametrize(("value", "valid"), [(True, True), (False, True), ("yes", False), (1, False)])
def test_a_topic_sinks_exactly_once_is_a_boolean(value: object, valid: bool) -> None:
    connections, _ = parse_connections((EXAMPLES / "connections.yaml").read_text(), "connections.yaml")
    text = (EXAMPLES / "orders-analytics.oml.yaml").read_text()
    sink = "      subject: analytics.paid_orders-value\n"
    assert sink in text
    text = text.replace(sink, sink + f"      exactly_once: {json.dumps(value)}\n")
    if valid:
        pipeline = validate(text, connections=connections, env={"SPINE_TOKEN": "t"})
        assert pipeline.steps[-1].config["exactly_once"] is value
        return
    with pytest.raises(OmlInvalidError) as caught:
        validate(text, source="p.yaml", connections=connections, env={"SPINE_TOKEN": "t"})
    assert [(i.code, i.path) for i in caught.value.issues] == [
        (OmlCode.CONFIG_INVALID, "steps[6].config.exactly_once")
    ]
