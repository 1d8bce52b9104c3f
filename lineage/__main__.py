"""``python -m lineage``: run the lineage service (what ``spine up`` starts)."""

from __future__ import annotations

import sys

from lineage.app import SERVICE, create_app
from spine.http import run_service
from spine.settings import LineageSettings


def main() -> int:
    return run_service(SERVICE, LineageSettings, create_app)


if __name__ == "__main__":
    sys.exit(main())
