"""``python -m lineage``: run the lineage service (what ``spine up`` starts)."""

from __future__ import annotations

import logging
import sys

from lineage.app import SERVICE, create_app
from spine.errors import SpineError
from spine.http import serve
from spine.logging import configure_logging
from spine.settings import KafkaSettings, LineageSettings, SpineSettings, check_environment, load_settings

logger = logging.getLogger(__name__)


def main() -> int:
    try:
        check_environment()
        spine = load_settings(SpineSettings)
        configure_logging(spine.log_level)
        settings = load_settings(LineageSettings)
        kafka = load_settings(KafkaSettings)
        port = settings.port or spine.port(SERVICE)
        app = create_app(settings, spine=spine, kafka=kafka)
        serve(app, host=settings.host, port=port, service=SERVICE)
    except SpineError as exc:
        print(f"{SERVICE}: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
