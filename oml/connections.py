"""Connections of OML steps: ``@family.alias`` references resolved from a connections file.

The file (YAML)::

    connections:
      sql:
        analytics:
          default: true
          url: postgresql+psycopg://spine@127.0.0.1:5432/analytics
          password: ${ANALYTICS_DB_PASSWORD}

A field is taken from the first of these that has it (the crash course's precedence): the step's inline
``connection`` mapping; the alias it names (``"@sql.analytics"``, or ``from:`` inside an inline mapping);
the family's ``default: true`` entry when no alias is named; the environment (``OML_<FAMILY>_<FIELD>``).
An entry may be empty (``local: {default: true}``): a command then uses its own defaults (the running
``spine up``). Secrets (fields named like password/secret/token/api_key, and a URL's password) are never
inline in a pipeline and never literal in the connections file: only ``${ENV}`` references, resolved at
run time. Resolution here is pure: the environment is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oml.document import Document, Path, load_document
from oml.errors import Issue, OmlCode
from spine.secrets import ENV_REF, MASKED, env_names, mask_url, url_password
from spine.secrets import substitute_env as _substitute

REFERENCE = re.compile(r"^@([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)$")
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_key|apikey|credential)", re.IGNORECASE)


def is_secret_field(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


@dataclass(frozen=True, slots=True)
class Connections:
    """The parsed connections file: family -> alias -> fields (values as written, ``${ENV}`` unresolved)."""

    entries: Mapping[str, Mapping[str, Mapping[str, Any]]]
    defaults: Mapping[str, str]
    source: str = "<connections>"

    @staticmethod
    def empty() -> Connections:
        return Connections({}, {})


def parse_connections(text: str, source: str) -> tuple[Connections, list[Issue]]:
    doc, issues = load_document(text)
    if doc is None:
        return Connections.empty(), issues
    entries: dict[str, dict[str, dict[str, Any]]] = {}
    defaults: dict[str, str] = {}
    root = doc.data
    if not isinstance(root, dict) or set(root) - {"connections"}:
        issues.append(
            doc.issue(OmlCode.CONNECTIONS_FILE, (), "a connections file holds one key, 'connections'")
        )
        return Connections.empty(), issues
    families = root.get("connections") or {}
    if not isinstance(families, dict):
        issues.append(doc.issue(OmlCode.CONNECTIONS_FILE, ("connections",), "must map families to aliases"))
        return Connections.empty(), issues
    for family, aliases in families.items():
        if not isinstance(aliases, dict):
            issues.append(doc.issue(OmlCode.CONNECTIONS_FILE, ("connections", family), "must map aliases"))
            continue
        for alias, fields in aliases.items():
            path: Path = ("connections", family, alias)
            if not isinstance(fields, dict):
                issues.append(
                    doc.issue(OmlCode.CONNECTIONS_FILE, path, "a connection is a mapping of fields")
                )
                continue
            clean = {k: v for k, v in fields.items() if k != "default"}
            if fields.get("default") is True:
                if family in defaults:
                    issues.append(
                        doc.issue(
                            OmlCode.CONNECTIONS_FILE, (*path, "default"), f"second default for {family}"
                        )
                    )
                defaults[family] = alias
            issues.extend(_literal_secrets(doc, path, clean))
            entries.setdefault(family, {})[alias] = clean
    return Connections(entries, defaults, source), issues


def _literal_secrets(doc: Document, path: Path, fields: Mapping[str, Any]) -> list[Issue]:
    out = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else None
        if is_secret_field(name) and (text is None or ENV_REF.fullmatch(text) is None):
            out.append(
                doc.issue(
                    OmlCode.LITERAL_SECRET, (*path, name), f"secret {name} must be an ${{ENV}} reference"
                )
            )
        elif text is not None and (pw := url_password(text)) is not None and ENV_REF.fullmatch(pw) is None:
            out.append(
                doc.issue(
                    OmlCode.LITERAL_SECRET,
                    (*path, name),
                    "a URL's password must be an ${ENV} reference (or a separate password field)",
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class ResolvedConnection:
    """A step's connection: where each field came from, its value as written (``${ENV}`` kept) and which
    fields are secret. ``values(env)`` gives the real values; ``masked()`` what manifests and logs show."""

    family: str
    alias: str | None
    fields: Mapping[str, Any]
    origins: Mapping[str, str]  # field -> inline | alias | default | environment

    def secret_fields(self) -> frozenset[str]:
        return frozenset(
            name
            for name, value in self.fields.items()
            if is_secret_field(name) or (isinstance(value, str) and url_password(value) is not None)
        )

    def masked(self) -> dict[str, Any]:
        secret = self.secret_fields()
        shown: dict[str, Any] = {}
        for name in sorted(self.fields):
            value = self.fields[name]
            if name in secret:
                value = MASKED if is_secret_field(name) else mask_url(str(value))
            shown[name] = value
        return {
            "family": self.family,
            "alias": self.alias,
            "fields": shown,
            "origins": dict(sorted(self.origins.items())),
        }

    def values(self, env: Mapping[str, str]) -> dict[str, Any]:
        """The fields with every ``${ENV}`` substituted; raises KeyError naming a missing variable."""
        return {name: substitute_env(value, env) for name, value in self.fields.items()}


def substitute_env(value: Any, env: Mapping[str, str]) -> Any:
    """A field's value with its ``${ENV}`` references substituted (non-strings as they are)."""
    return _substitute(value, env) if isinstance(value, str) else value


def resolve(
    family: str,
    reference: Any,
    connections: Connections,
    env: Mapping[str, str],
    doc: Document,
    path: Path,
) -> tuple[ResolvedConnection | None, list[Issue]]:
    """Resolve a step's ``connection`` value (None, ``@family.alias`` or an inline mapping) for ``family``."""
    issues: list[Issue] = []
    inline: dict[str, Any] = {}
    alias_ref: str | None = None
    if isinstance(reference, str):
        alias_ref = reference
    elif isinstance(reference, dict):
        inline = {k: v for k, v in reference.items() if k != "from"}
        if "from" in reference:
            alias_ref = str(reference["from"])
        for name, value in inline.items():
            if is_secret_field(name) or (isinstance(value, str) and url_password(value) is not None):
                issues.append(
                    doc.issue(
                        OmlCode.INLINE_SECRET,
                        (*path, name),
                        f"secret {name} may not be inline in a pipeline: put it in the connections file "
                        "as an ${ENV} reference",
                    )
                )
        if issues:
            return None, issues
    alias: str | None = None
    named: Mapping[str, Any] = {}
    origin_of_named = "alias"
    if alias_ref is not None:
        match = REFERENCE.fullmatch(alias_ref)
        ref_path = path if isinstance(reference, str) else (*path, "from")
        if match is None:
            issues.append(
                doc.issue(OmlCode.BAD_CONNECTION_REFERENCE, ref_path, f"{alias_ref!r} is not @family.alias")
            )
            return None, issues
        ref_family, alias = match.group(1), match.group(2)
        if ref_family != family:
            issues.append(
                doc.issue(
                    OmlCode.CONNECTION_FAMILY,
                    ref_path,
                    f"{alias_ref} is a {ref_family} connection; this component needs a {family} one",
                )
            )
            return None, issues
        known = connections.entries.get(family, {})
        if alias not in known:
            listed = ", ".join(sorted(known)) or "none"
            issues.append(
                doc.issue(
                    OmlCode.UNKNOWN_CONNECTION,
                    ref_path,
                    f"connection {alias_ref} is not in {connections.source} ({family} aliases: {listed})",
                )
            )
            return None, issues
        named = known[alias]
    elif family in connections.defaults:
        alias = connections.defaults[family]
        named = connections.entries[family][alias]
        origin_of_named = "default"
    prefix = f"OML_{family.upper()}_"
    environment = {k.removeprefix(prefix).lower(): v for k, v in sorted(env.items()) if k.startswith(prefix)}
    fields: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer, origin in ((environment, "environment"), (named, origin_of_named), (inline, "inline")):
        for name, value in layer.items():
            fields[name] = value
            origins[name] = origin
    if not fields and alias is None:
        issues.append(
            doc.issue(
                OmlCode.NO_CONNECTION,
                path,
                f"no {family} connection: name one (@{family}.ALIAS), mark one default in "
                f"{connections.source}, or set {prefix}* variables",
            )
        )
        return None, issues
    # Secrets read from the environment layer are values, never written anywhere; keep them as references.
    for name in list(fields):
        if origins[name] == "environment" and is_secret_field(name):
            fields[name] = "${" + prefix + name.upper() + "}"
    for name, value in fields.items():
        for var in env_names(value):
            if var not in env:
                where = (*path, name) if origins[name] == "inline" else path
                issues.append(
                    doc.issue(
                        OmlCode.MISSING_ENV,
                        where,
                        f"connection field {name} needs environment variable {var}, which is not set",
                    )
                )
    return ResolvedConnection(family, alias, fields, origins), issues


__all__ = [
    "MASKED",
    "Connections",
    "ResolvedConnection",
    "env_names",
    "is_secret_field",
    "parse_connections",
    "resolve",
    "substitute_env",
    "url_password",
]
