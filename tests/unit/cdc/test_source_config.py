"""The Debezium connector's properties, embedded and for Kafka Connect, from one route file."""

from __future__ import annotations

from pathlib import Path

from cdc.routes import load_routes
from cdc.source import connect_config, debezium_properties
from spine.settings import CdcSettings

EXAMPLE = Path(__file__).parents[3] / "examples" / "cdc" / "routes.yaml"


def test_the_embedded_engine_gets_the_measured_settings() -> None:
    routes = load_routes(EXAMPLE, {"SHOP_DB_PASSWORD": "s3cret"})
    props = debezium_properties(routes, CdcSettings(), Path("/x/offsets.dat"))
    assert props["plugin.name"] == "pgoutput"
    assert props["publication.autocreate.mode"] == "filtered"
    assert props["decimal.handling.mode"] == "string"
    assert props["offset.flush.interval.ms"] == "0"
    assert props["poll.interval.ms"] == "100"
    assert props["skipped.operations"] == "none"  # truncates are replicated
    assert props["table.include.list"] == r"public\.customers,public\.orders"
    assert props["database.password"] == "s3cret"


def test_the_connect_registration_names_the_secret_and_never_inlines_it() -> None:
    routes = load_routes(EXAMPLE, {"SHOP_DB_PASSWORD": "s3cret"})
    body = connect_config(routes, CdcSettings())
    assert body["name"] == "shop"
    config = body["config"]
    assert isinstance(config, dict)
    assert config["database.password"] == "${env:SHOP_DB_PASSWORD}"
    assert "offset.storage.file.filename" not in config
    assert "s3cret" not in str(body)
