"""``python -m registry``: run the schema registry service (what ``spine up`` starts)."""

from __future__ import annotations

import sys

from registry.app import create_app
from spine.http import run_service
from spine.settings import RegistrySettings


def main() -> int:
    return run_service("registry", RegistrySettings, create_app)


if __name__ == "__main__":
    sys.exit(main())
