"""``python -m residency_gate``: run the residency gate service (what ``spine up`` starts)."""

from __future__ import annotations

import sys

from residency_gate.app import SERVICE, create_app
from spine.http import run_service
from spine.settings import ResidencyGateSettings


def main() -> int:
    return run_service(SERVICE, ResidencyGateSettings, create_app)


if __name__ == "__main__":
    sys.exit(main())
