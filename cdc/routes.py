"""The CDC route file: which source tables go to which sink, as which dataset, with which field tags.

Pure: parses and checks a YAML document, reads secrets from the environment (``${NAME}``), does no I/O
beyond that. Every problem is one line ``FILE:LINE: path: problem``, the line taken from the YAML node.
An inline password in a DSN is refused; secrets come only from ``${NAME}`` references.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from spine.errors import ConfigError
from spine.located_yaml import Located, load_located, render_path
from spine.secrets import env_names, is_reference, substitute_env, url_password

_KV_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


class RoutesError(ConfigError):
    """A route file is wrong; the message is ``FILE:LINE: problem``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FilterOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "is_null", "not_null"]


class Condition(_Strict):
    """One test of a source column; a route's row filter keeps a row when all its conditions hold."""

    column: str
    op: FilterOp
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op in {"is_null", "not_null"} and self.value is not None:
            raise ValueError(f"op {self.op} takes no value")
        if self.op in {"in", "not_in"} and not isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs a list value")
        if self.op not in {"is_null", "not_null", "in", "not_in"} and self.value is None:
            raise ValueError(f"op {self.op} needs a value")
        return self


class Source(_Strict):
    """The PostgreSQL database Debezium reads, and the names of its topics, slot and publication."""

    name: str = Field(description="Topic prefix (Debezium's topic.prefix) and connector name.")
    dsn: SecretStr = Field(description="libpq DSN or postgresql:// URL; secrets only as ${NAME}.")
    region: str | None = Field(default=None, description="Region the data leaves (default its home).")
    slot: str | None = None
    publication: str | None = None
    heartbeat_ms: int = Field(default=10_000, ge=0)
    _secret_names: tuple[str, ...] = PrivateAttr(default=())

    @property
    def secret_names(self) -> tuple[str, ...]:
        """The environment variables the DSN named (``${NAME}``), for configs that must not inline them."""
        return self._secret_names

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"must match {_NAME.pattern}")
        return value

    @property
    def slot_name(self) -> str:
        return self.slot or f"spine_{re.sub(r'[^a-z0-9_]', '_', self.name)}"

    @property
    def publication_name(self) -> str:
        return self.publication or self.slot_name

    def connection(self) -> dict[str, str]:
        """host, port, user, password, dbname of the DSN (URL or key=value form)."""
        return parse_dsn(self.dsn.get_secret_value())


class Sink(_Strict):
    """A SQL database the router writes (SQLAlchemy URL; secrets only as ${NAME})."""

    url: SecretStr


class Registry(_Strict):
    """The schema registry each routed table's value schema is published to (token: ``SPINE_TOKEN``)."""

    url: str = Field(description="Base URL of the spine registry (its spine API).")
    token: SecretStr | None = Field(
        default=None, description="A producer token, only as ${NAME}; default the SPINE_TOKEN variable."
    )


class Route(_Strict):
    """One source table to one sink table."""

    name: str | None = None
    table: str = Field(description="schema.table in the source database.")
    dataset: str = Field(description="The residency matrix's name for this data.")
    sink: str
    sink_table: str | None = None
    key: tuple[str, ...] = Field(min_length=1)
    rename: dict[str, str] = Field(default_factory=dict)
    filter: tuple[Condition, ...] = ()
    fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    delete: Literal["delete", "soft_delete"] = "delete"
    purpose: str | None = None

    @field_validator("table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2 or not all(_IDENT.match(p) for p in parts):
            raise ValueError("must be schema.table (e.g. public.customers)")
        return value

    @field_validator("sink_table")
    @classmethod
    def _sink_table(cls, value: str | None) -> str | None:
        if value is not None and not _IDENT.match(value):
            raise ValueError(f"must match {_IDENT.pattern}")
        return value

    @field_validator("rename")
    @classmethod
    def _renames(cls, value: dict[str, str]) -> dict[str, str]:
        for target in value.values():
            if not _IDENT.match(target):
                raise ValueError(f"target column {target!r} must match {_IDENT.pattern}")
            if target.startswith("_spine_"):
                raise ValueError(f"target column {target!r}: names starting _spine_ are reserved")
        if len(set(value.values())) != len(value):
            raise ValueError("two columns renamed to the same name")
        return value

    @property
    def route_name(self) -> str:
        return self.name or self.table

    @property
    def schema_name(self) -> str:
        return self.table.split(".")[0]

    @property
    def table_name(self) -> str:
        return self.table.split(".")[1]

    @property
    def target_table(self) -> str:
        return self.sink_table or self.table_name

    def topic(self, prefix: str) -> str:
        """The change topic Debezium (embedded or on Connect) writes this table to."""
        return f"{prefix}.{self.table}"


class RouteFile(_Strict):
    source: Source
    sinks: dict[str, Sink] = Field(min_length=1)
    routes: tuple[Route, ...] = Field(min_length=1)
    registry: Registry | None = Field(
        default=None, description="Publish value schemas here; without it, schemas are not registered."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RouteFile:
        names: set[str] = set()
        tables: set[str] = set()
        for index, route in enumerate(self.routes):
            if route.sink not in self.sinks:
                raise _AtError(("routes", index, "sink"), f"sink {route.sink} is not defined under sinks")
            if route.route_name in names:
                raise _AtError(("routes", index, "name"), f"route {route.route_name} is defined twice")
            if route.table in tables:
                raise _AtError(("routes", index, "table"), f"table {route.table} is routed twice")
            names.add(route.route_name)
            tables.add(route.table)
        return self

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.route_name == name:
                return route
        known = ", ".join(r.route_name for r in self.routes)
        raise ConfigError(f"no route named {name} (routes: {known})")

    def topic(self, route: Route) -> str:
        return route.topic(self.source.name)


class _AtError(ValueError):
    """A cross-field problem that knows its path in the document."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def parse_dsn(dsn: str) -> dict[str, str]:
    """The connection parameters of a libpq DSN (``host=... port=...``) or ``postgresql://`` URL."""
    if "://" in dsn:
        split = urlsplit(dsn)
        out = {
            "host": split.hostname or "127.0.0.1",
            "port": str(split.port or 5432),
            "user": unquote(split.username or ""),
            "password": unquote(split.password or ""),
            "dbname": split.path.lstrip("/"),
        }
        return {k: v for k, v in out.items() if v}
    out = {}
    for key, value in re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn):
        out[key] = value[1:-1].replace("\\'", "'") if value.startswith("'") else value
    return out


def _inline_password(dsn: str) -> bool:
    if "://" in dsn:
        password = url_password(dsn)
    else:
        match = _KV_PASSWORD.search(dsn)
        password = match.group(1).strip("'") if match else None
    return password is not None and not is_reference(password)


def _compose(text: str, origin: str) -> Located:
    located, problems = load_located(text)
    if problems:
        first = problems[0]
        line = first.line or 1
        if first.kind == "syntax":
            raise RoutesError(
                f"{origin}:{line}: malformed YAML: {first.message.removeprefix('not valid YAML: ')}"
            )
        if first.kind == "duplicate_key":
            raise RoutesError(f"{origin}:{line}: {_dotted(first.path)}: duplicate key")
    if located is None:
        raise RoutesError(f"{origin}:1: the route file is empty")
    return located


def _dotted(path: tuple[str | int, ...]) -> str:
    return render_path(path) or "(document)"


def _secrets(doc: Any, located: Located, origin: str, env: Mapping[str, str]) -> list[str]:
    """Refuse inline passwords and tokens, then replace ``${NAME}`` in the DSN, the sink URLs and the
    registry token (missing ones named)."""
    targets: list[tuple[tuple[str | int, ...], dict[str, Any], str]] = []
    found: list[str] = []
    source = doc.get("source") if isinstance(doc, dict) else None
    if isinstance(source, dict) and isinstance(source.get("dsn"), str):
        targets.append((("source", "dsn"), source, "dsn"))
    sinks = doc.get("sinks") if isinstance(doc, dict) else None
    if isinstance(sinks, dict):
        for name, sink in sinks.items():
            if isinstance(sink, dict) and isinstance(sink.get("url"), str):
                targets.append((("sinks", name, "url"), sink, "url"))
    registry = doc.get("registry") if isinstance(doc, dict) else None
    if isinstance(registry, dict) and isinstance(registry.get("token"), str):
        if not is_reference(registry["token"]):
            where = f"{origin}:{located.line(('registry', 'token')) or 1}: registry.token"
            raise RoutesError(f"{where}: inline token refused: write it as ${{NAME}} and set NAME")
        targets.append((("registry", "token"), registry, "token"))
    for path, holder, key in targets:
        if path == ("source", "dsn"):
            found.extend(env_names(holder[key]))
        where = f"{origin}:{located.line(path) or 1}: {_dotted(path)}"
        if _inline_password(holder[key]):
            raise RoutesError(f"{where}: inline password refused: write it as ${{NAME}} and set NAME")
        try:
            holder[key] = substitute_env(holder[key], env)
        except KeyError as missing:
            raise RoutesError(f"{where}: secret {missing.args[0]} is not set in the environment") from None
    return found


def parse_routes(text: str, origin: str = "<routes>", environ: Mapping[str, str] | None = None) -> RouteFile:
    """Parse and check a route file's text; ``origin`` names it in every error."""
    located = _compose(text, origin)
    doc = located.data
    if not isinstance(doc, dict):
        raise RoutesError(f"{origin}:1: the route file must be a mapping with source, sinks and routes")
    names = _secrets(doc, located, origin, os.environ if environ is None else environ)
    try:
        routes = RouteFile.model_validate(doc)
        routes.source._secret_names = tuple(names)
        return routes
    except ValidationError as exc:
        err = exc.errors()[0]
        path = tuple(err["loc"])
        context = err.get("ctx", {}).get("error")
        if isinstance(context, _AtError):
            path, message = context.path, context.message
        elif err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key missing"
        else:
            message = err["msg"].removeprefix("Value error, ")
        line = located.line(path) or 1
        raise RoutesError(f"{origin}:{line}: {_dotted(path)}: {message}") from None


def load_routes(path: Path, environ: Mapping[str, str] | None = None) -> RouteFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RoutesError(f"{path}: route file not found") from None
    except OSError as exc:
        raise RoutesError(f"{path}: cannot read route file: {exc.strerror}") from None
    return parse_routes(text, str(path), environ)


__all__ = [
    "Condition",
    "Route",
    "RouteFile",
    "RoutesError",
    "Sink",
    "Source",
    "load_routes",
    "parse_dsn",
    "parse_routes",
]
