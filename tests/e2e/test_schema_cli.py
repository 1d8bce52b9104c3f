"""``spine schema …`` as a CI job runs it: a real registry process, the real command, its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.runtime.health import wait_http_ready

pytestmark = pytest.mark.integration


@dataclass
class Registry:
    url: str
    home: Path
    producer_token: str


def _env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update({"SPINE_HOME": str(home), "COLUMNS": "200"})
    env.update(extra or {})
    return env


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    home = tmp_path_factory.mktemp("registry-home")
    token = TokenStore(home / "auth" / "tokens.json").issue(Role.PRODUCER)
    port = free_port()
    log = (home / "registry.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "registry"],
        env=_env(home, {"SPINE_REGISTRY_PORT": str(port)}),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_http_ready(url, 60, process), (home / "registry.log").read_text()
        yield Registry(url, home, token)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def spine(registry: Registry, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = _env(
        registry.home,
        {"SPINE_REGISTRY_URL": registry.url, "SPINE_TOKEN": token or registry.producer_token},
    )
    return subprocess.run(
        [sys.executable, "-m", "cli", "schema", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def avro(path: Path, *fields: dict[str, Any], name: str = "Order") -> Path:
    schema = {
        "type": "record",
        "name": name,
        "namespace": "com.example.sales",
        "doc": "An order placed by a customer.",
        "fields": list(fields),
    }
    path.write_text(json.dumps(schema))
    return path


ID = {"name": "order_id", "type": "string", "doc": "Order key.", "confluent:tags": ["INTERNAL"]}
EMAIL = {"name": "email", "type": "string", "doc": "Buyer's e-mail.", "confluent:tags": ["PII.email"]}
NOTE = {"name": "note", "type": ["null", "string"], "default": None, "doc": "Free text."}


def published(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout + result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_publish_evolves_semver_by_change_class(registry: Registry, tmp_path: Path) -> None:
    subject = "cli.orders-value"
    first = published(
        spine(registry, "publish", str(avro(tmp_path / "v1.avsc", ID, EMAIL)), "-s", subject, "--json")
    )
    assert (first["version"], first["semver"]) == (1, "1.0.0")

    minor = published(
        spine(registry, "publish", str(avro(tmp_path / "v2.avsc", ID, EMAIL, NOTE)), "-s", subject, "--json")
    )
    assert (minor["version"], minor["semver"], minor["change"]) == (2, "1.1.0", "MINOR")

    shown = published(spine(registry, "show", subject, "--json"))
    assert shown["semver"] == "1.1.0"
    assert {"path": "email", "tags": ["PII.email"]} in shown["tags"]

    listed = spine(registry, "list")
    assert listed.returncode == 0, listed.stderr
    assert subject in listed.stdout
    assert "1.1.0" in listed.stdout


def test_incompatible_change_is_rejected_with_paths_until_declared_major(
    registry: Registry, tmp_path: Path
) -> None:
    subject = "cli.breaking-value"
    published(spine(registry, "publish", str(avro(tmp_path / "v1.avsc", ID, EMAIL)), "-s", subject, "--json"))
    breaking = avro(tmp_path / "v2.avsc", ID, {**EMAIL, "type": "int"})

    rejected = spine(registry, "publish", str(breaking), "-s", subject)
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "email" in rejected.stderr

    major = published(
        spine(registry, "publish", str(breaking), "-s", subject, "--version", "2.0.0", "--json")
    )
    assert (major["semver"], major["change"]) == ("2.0.0", "MAJOR")
    assert major["topic"].endswith(".v2")


def test_understated_version_is_rejected(registry: Registry, tmp_path: Path) -> None:
    subject = "cli.understated-value"
    published(spine(registry, "publish", str(avro(tmp_path / "v1.avsc", ID)), "-s", subject, "--json"))
    result = spine(
        registry,
        "publish",
        str(avro(tmp_path / "v2.avsc", ID, NOTE)),
        "-s",
        subject,
        "--version",
        "1.0.1",
        "--json",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["error_code"] == 42240


def test_validate_checks_without_registering(registry: Registry, tmp_path: Path) -> None:
    subject = "cli.validate-value"
    published(spine(registry, "publish", str(avro(tmp_path / "v1.avsc", ID)), "-s", subject, "--json"))
    checked = published(
        spine(registry, "validate", str(avro(tmp_path / "v2.avsc", ID, NOTE)), "-s", subject, "--json")
    )
    assert checked["dryRun"] is True
    assert checked["semver"] == "1.1.0"
    versions = httpx.get(f"{registry.url}/subjects/{subject}/versions").json()
    assert versions == [1]


def test_rollback_makes_an_old_schema_latest_again(registry: Registry, tmp_path: Path) -> None:
    subject = "cli.rollback-value"
    v1 = avro(tmp_path / "v1.avsc", ID)
    published(spine(registry, "publish", str(v1), "-s", subject, "--json"))
    published(spine(registry, "publish", str(avro(tmp_path / "v2.avsc", ID, NOTE)), "-s", subject, "--json"))

    rolled = spine(registry, "rollback", "-s", subject, "--to", "1")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    latest = httpx.get(f"{registry.url}/subjects/{subject}/versions/latest").json()
    first = httpx.get(f"{registry.url}/subjects/{subject}/versions/1").json()
    assert latest["version"] == 3
    assert latest["id"] == first["id"]


def test_lint_exits_one_on_error_findings_and_zero_when_clean(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "lint.yaml"
    config.write_text("rules:\n  fields.classification-tag-required: error\n")
    untagged = avro(tmp_path / "untagged.avsc", NOTE)
    result = spine(registry, "lint", str(untagged), "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "fields.classification-tag-required" in result.stdout
    assert "note" in result.stdout

    clean = spine(registry, "lint", str(avro(tmp_path / "tagged.avsc", ID, EMAIL)), "--config", str(config))
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_diff_of_two_files_classes_each_change(registry: Registry, tmp_path: Path) -> None:
    old = avro(tmp_path / "old.avsc", ID, EMAIL)
    new = avro(tmp_path / "new.avsc", ID, {**EMAIL, "type": "int"}, NOTE)
    body = published(spine(registry, "diff", str(old), str(new), "--json"))
    assert body["change"] == "MAJOR"
    classes = {change["path"]: change["change"] for change in body["changes"]}
    assert any("email" in path and cls == "MAJOR" for path, cls in classes.items()), classes
    assert any("note" in path and cls == "MINOR" for path, cls in classes.items()), classes


def test_diff_against_the_registry_uses_the_registered_version(registry: Registry, tmp_path: Path) -> None:
    subject = "cli.diff-value"
    published(spine(registry, "publish", str(avro(tmp_path / "v1.avsc", ID)), "-s", subject, "--json"))
    body = published(
        spine(registry, "diff", str(avro(tmp_path / "v2.avsc", ID, NOTE)), "-s", subject, "--json")
    )
    assert body["change"] == "MINOR"


def test_malformed_schema_file_is_a_usage_error_naming_the_file(registry: Registry, tmp_path: Path) -> None:
    broken = tmp_path / "broken.avsc"
    broken.write_text('{"type": "record", "name": "X", "fields": [{"name": "a"}]}')
    result = spine(registry, "publish", str(broken), "-s", "cli.broken-value")
    assert result.returncode == 2
    assert str(broken) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_file_and_unknown_suffix_are_usage_errors(registry: Registry, tmp_path: Path) -> None:
    missing = spine(registry, "publish", str(tmp_path / "nope.avsc"), "-s", "x-value")
    assert missing.returncode == 2
    assert "nope.avsc" in missing.stderr
    odd = tmp_path / "schema.txt"
    odd.write_text("{}")
    unknown = spine(registry, "lint", str(odd))
    assert unknown.returncode == 2
    assert "--type" in unknown.stderr


def test_a_bad_token_is_a_usage_error(registry: Registry, tmp_path: Path) -> None:
    result = spine(
        registry, "publish", str(avro(tmp_path / "v1.avsc", ID)), "-s", "cli.auth-value", token="wrong"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "40101" in result.stderr
    assert "invalid bearer token" in result.stderr


def test_unreachable_registry_exits_three_with_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, {"SPINE_REGISTRY_URL": f"http://127.0.0.1:{free_port()}"})
    result = subprocess.run(
        [sys.executable, "-m", "cli", "schema", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert "registry unreachable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
