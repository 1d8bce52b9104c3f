"""``python -m residency_gate``: run the residency gate service (what ``spine up`` starts)."""

from __future__ import annotations

import logging

from residency_gate.app import SERVICE, create_app
from spine.errors import SpineError
from spine.http import serve
from spine.logging import configure_logging
from spine.settings import ResidencyGateSettings, SpineSettings, check_environment, load_settings

logger = logging.getLogger(__name__)


def main() -> None:
    spine = load_settings(SpineSettings)
    configure_logging(spine.log_level)
    try:
        check_environment()
        settings = load_settings(ResidencyGateSettings)
        port = settings.port or spine.port(SERVICE)
        app = create_app(settings, spine=spine)
        serve(app, host=settings.host, port=port, service=SERVICE)
    except SpineError as exc:
        logger.error("%s", exc)
        raise SystemExit(int(exc.exit_code)) from None


if __name__ == "__main__":
    main()
