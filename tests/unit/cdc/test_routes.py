"""The route file: what is accepted, and one FILE:LINE: problem line for each thing that is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdc.routes import load_routes, parse_dsn, parse_routes
from spine.errors import ConfigError

EXAMPLE = Path(__file__).parents[3] / "examples" / "cdc" / "routes.yaml"

GOOD = """source:
  name: shop
  dsn: host=127.0.0.1 port=5432 user=cdc password=${PW} dbname=shop
sinks:
  analytics-eu: {url: "sqlite:///x.db"}
routes:
  - table: public.customers
    dataset: crm.customers
    sink: analytics-eu
    key: [id]
    rename: {email: email_address}
    fields: {email: [PII.email]}
    filter:
      - {column: status, op: ne, value: test}
    delete: soft_delete
"""


def test_the_example_route_file_is_valid() -> None:
    routes = load_routes(EXAMPLE, {"SHOP_DB_PASSWORD": "s3cret"})
    assert [r.route_name for r in routes.routes] == ["public.customers", "public.orders"]
    assert routes.topic(routes.routes[0]) == "shop.public.customers"
    assert routes.source.connection()["password"] == "s3cret"


def test_a_good_file_resolves_its_secret_and_defaults() -> None:
    routes = parse_routes(GOOD, "r.yaml", {"PW": "pw"})
    route = routes.route("public.customers")
    assert route.target_table == "customers"
    assert route.key == ("id",)
    assert route.fields == {"email": ("PII.email",)}
    assert routes.source.slot_name == "spine_shop"
    assert routes.source.connection() == {
        "host": "127.0.0.1", "port": "5432", "user": "cdc", "password": "pw", "dbname": "shop",
    }  # fmt: skip
    assert "pw" not in repr(routes)


def test_a_url_dsn_is_split_into_its_parts() -> None:
    assert parse_dsn("postgresql://u:p%40ss@db:6543/shop") == {
        "host": "db", "port": "6543", "user": "u", "password": "p@ss", "dbname": "shop",
    }  # fmt: skip


BAD = [
    ("unknown top key", GOOD + "extra: 1\n", {"PW": "x"}, "r.yaml:16: extra: unknown key"),
    (
        "unknown route key",
        GOOD.replace("    delete: soft_delete", "    delete: soft_delete\n    colour: red"),
        {"PW": "x"},
        "r.yaml:16: routes[0].colour: unknown key",
    ),
    (
        "inline password in a libpq dsn",
        GOOD.replace("password=${PW}", "password=hunter2"),
        {},
        "r.yaml:3: source.dsn: inline password refused",
    ),
    (
        "inline password in a URL",
        GOOD.replace(
            "dsn: host=127.0.0.1 port=5432 user=cdc password=${PW} dbname=shop",
            "dsn: postgresql://cdc:hunter2@127.0.0.1/shop",
        ),
        {},
        "r.yaml:3: source.dsn: inline password refused",
    ),
    ("missing secret", GOOD, {}, "r.yaml:3: source.dsn: secret PW is not set in the environment"),
    (
        "undefined sink",
        GOOD.replace("    sink: analytics-eu", "    sink: nowhere"),
        {"PW": "x"},
        "r.yaml:9: routes[0].sink: sink nowhere is not defined under sinks",
    ),
    (
        "unqualified table",
        GOOD.replace("table: public.customers", "table: customers"),
        {"PW": "x"},
        "r.yaml:7: routes[0].table: must be schema.table",
    ),
    ("empty key", GOOD.replace("key: [id]", "key: []"), {"PW": "x"}, "r.yaml:10: routes[0].key:"),
    (
        "bad delete handling",
        GOOD.replace("delete: soft_delete", "delete: archive"),
        {"PW": "x"},
        "r.yaml:15: routes[0].delete:",
    ),
    (
        "filter op without value",
        GOOD.replace("{column: status, op: ne, value: test}", "{column: status, op: ne}"),
        {"PW": "x"},
        "r.yaml:14: routes[0].filter[0]: op ne needs a value",
    ),
    (
        "reserved rename target",
        GOOD.replace("email_address", "_spine_x"),
        {"PW": "x"},
        "r.yaml:11: routes[0].rename: target column '_spine_x'",
    ),
    (
        "table routed twice",
        GOOD + "  - {table: public.customers, name: again, dataset: d, sink: analytics-eu, key: [id]}\n",
        {"PW": "x"},
        "r.yaml:16: routes[1].table: table public.customers is routed twice",
    ),
    ("missing routes", GOOD.split("routes:")[0], {"PW": "x"}, "r.yaml:1: routes: required key missing"),
    ("duplicate key", GOOD + "sinks: {}\n", {"PW": "x"}, "r.yaml:16: sinks: duplicate key"),
    ("malformed yaml", "source: [unclosed\n", {}, "r.yaml:2: malformed YAML"),
    ("not a mapping", "- 1\n", {}, "r.yaml:1: the route file must be a mapping"),
]


@pytest.mark.parametrize(("text", "environ", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_route_file_is_one_line_naming_file_line_and_problem(
    text: str, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_routes(text, "r.yaml", environ)
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert "hunter2" not in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yaml: route file not found"):
        load_routes(tmp_path / "nope.yaml")


def test_spine_cdc_validate_exits_0_on_a_good_file_and_2_with_one_line_on_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("PW", "x")
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    result = CliRunner().invoke(app, ["cdc", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert f"{good}: ok" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "extra: 1\n")
    result = CliRunner().invoke(app, ["cdc", "validate", str(bad)])
    assert result.exit_code == 2, result.output
    assert f"{bad}:16: extra: unknown key" in result.output
    assert "Traceback" not in result.output


def test_the_cdc_settings_section_is_read_from_the_config_file(tmp_path: Path) -> None:
    from spine.settings import CdcSettings, load_settings

    config = tmp_path / "spine.toml"
    config.write_text('[cdc]\nroutes_file = "r.yaml"\nbatch_size = 50\n')
    settings = load_settings(CdcSettings, config)
    assert settings.routes_file == Path("r.yaml")
    assert settings.batch_size == 50
    config.write_text("[cdc]\nbatch = 50\n")
    with pytest.raises(ConfigError, match=r"\[cdc\] batch: unknown setting"):
        load_settings(CdcSettings, config)


def test_the_registry_section_takes_its_token_only_from_the_environment() -> None:
    routes = parse_routes(
        GOOD + "registry: {url: 'http://reg:8081', token: '${REG}'}\n", "r.yaml", {"PW": "p", "REG": "t0k"}
    )
    assert routes.registry is not None
    assert routes.registry.url == "http://reg:8081"
    assert routes.registry.token is not None
    assert routes.registry.token.get_secret_value() == "t0k"
    assert parse_routes(GOOD, "r.yaml", {"PW": "p"}).registry is None
    with pytest.raises(ConfigError, match=r"^r\.yaml:16: registry\.token: inline token refused"):
        parse_routes(GOOD + "registry: {url: 'http://reg', token: literal}\n", "r.yaml", {"PW": "p"})
    with pytest.raises(ConfigError, match=r"^r\.yaml:16: registry\.token: secret REG is not set"):
        parse_routes(GOOD + "registry: {url: 'http://reg', token: '${REG}'}\n", "r.yaml", {"PW": "p"})
