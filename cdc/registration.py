"""Publishing each routed table's value schema, and deciding when a change must stop its route.

The router asks :meth:`SchemaRegistrar.check` for every decoded change event. A row shape seen before
costs a dictionary lookup. A new shape is classified by the registry (``POST /schemas/{subject}`` with
``dryRun``): NONE, PATCH or MINOR (an added nullable column) is then published and the route goes on. A
MAJOR change (a narrowed type: the registry refuses it with 409 unless a major version is declared), a
column dropped without a default (checked here, as the registry's BACKWARD level allows it) or any other
refusal by the registry (4xx) is *breaking*: nothing is registered and the caller stops the route. An
unreachable registry raises :class:`~spine.registry_client.RegistryUnavailableError` (fail closed: the
batch is not committed and is read again).

Without a ``registry:`` section in the route file, no schema is registered and no route is stopped for
its schema: the sink follows the source's columns (new columns added as nullable) as before.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cdc.plan import ChangeEvent
from cdc.routes import Route, RouteFile
from cdc.schemas import SchemaBuildError, canonical, dropped_without_default, subject, value_schema
from spine.registry_client import (
    SUBJECT_NOT_FOUND,
    VERSION_NOT_FOUND,
    RegistryClient,
    RegistryClientError,
)


@dataclass(frozen=True, slots=True)
class Breaking:
    """Why a route must stop: the subject and the registry's (or the builder's) reasons."""

    subject: str
    reason: str


def registry_client(routes: RouteFile) -> RegistryClient | None:
    """The client of the route file's registry (token from ``registry.token``, else ``SPINE_TOKEN``)."""
    if routes.registry is None:
        return None
    token = routes.registry.token
    secret = token.get_secret_value() if token is not None else os.environ.get("SPINE_TOKEN")
    return RegistryClient(routes.registry.url, secret)


class SchemaRegistrar:
    def __init__(self, routes: RouteFile, client: RegistryClient | None) -> None:
        self.routes = routes
        self.client = client
        self._known: dict[str, str] = {}  # route -> the canonical schema text last published
        self._checked: dict[str, object] = {}  # route -> the row fields that text was built from
        self.published: dict[str, str] = {}  # route -> semver of its latest published value schema

    def forget(self, route: Route) -> None:
        """Drop what is remembered of ``route``'s schema: the next event is checked against the registry
        (a resumed route whose new schema an operator registered there goes on)."""
        self._known.pop(route.route_name, None)
        self._checked.pop(route.route_name, None)

    def check(self, route: Route, event: ChangeEvent) -> Breaking | None:
        """None when the event's row shape is registered (publishing it if new); else why it breaks."""
        if self.client is None or not event.fields:
            return None
        if self._checked.get(route.route_name) == event.fields:
            return None  # the same row shape as the last event's (decode shares it across events)
        name = subject(self.routes.topic(route))
        try:
            text = canonical(value_schema(self.routes.source.name, route, event.fields))
        except SchemaBuildError as exc:
            return Breaking(name, f"value schema of {route.table} cannot be built: {exc}")
        known = self._known.get(route.route_name)
        if known == text:
            self._checked[route.route_name] = event.fields
            return None
        try:
            previous = known if known is not None else self._latest(name)
            if previous is not None:
                dropped = dropped_without_default(json.loads(previous), json.loads(text))
                if dropped:
                    return Breaking(
                        name,
                        f"breaking schema change of {route.table} (subject {name}): column(s) "
                        f"{', '.join(dropped)} dropped without a default",
                    )
            trial = self.client.publish(name, text, dry_run=True)
            if trial.change == "MAJOR" and int(trial.semver.split(".")[0]) > 1:
                why = "; ".join(trial.reasons) or "the registry classes it MAJOR"
                return Breaking(name, f"breaking schema change of {route.table} (subject {name}): {why}")
            outcome = self.client.publish(name, text)
        except RegistryClientError as exc:
            return Breaking(name, f"registry refused the schema of {route.table} (subject {name}): {exc}")
        self._known[route.route_name] = text
        self._checked[route.route_name] = event.fields
        self.published[route.route_name] = outcome.semver
        return None

    def _latest(self, name: str) -> str | None:
        """The latest registered schema text of ``name`` (None for a new subject)."""
        assert self.client is not None
        try:
            return self.client.latest(name).schema
        except RegistryClientError as exc:
            if exc.error_code in {SUBJECT_NOT_FOUND, VERSION_NOT_FOUND} or exc.status == 404:
                return None
            raise


__all__ = ["Breaking", "SchemaRegistrar", "registry_client"]
