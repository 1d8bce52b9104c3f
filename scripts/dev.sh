#!/usr/bin/env bash
# Set this machine up for Data Spine (Debian packages, a virtualenv with the project) and run one job.
#   scripts/dev.sh up [spine up options]   start the whole spine on the embedded broker (detached)
#   scripts/dev.sh test [pytest options]   run the test suite against real servers
#   scripts/dev.sh setup                   only install what is missing
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SPINE_VENV:-.venv}
PYTHON=${PYTHON:-python3}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_system() {
    local missing=()
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v runuser >/dev/null || missing+=(util-linux)
    # The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

install_python() {
    local stamp="$VENV/.spine-installed"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating virtualenv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "==> installing data-spine and its dev dependencies"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[dev]'
        touch "$stamp"
    fi
}

job=${1:-}
shift || true
case "$job" in
    setup)
        install_system
        install_python
        ;;
    up)
        install_system
        install_python
        if [ $# -eq 0 ]; then set -- --detach; fi
        exec "$VENV/bin/spine" up "$@"
        ;;
    test)
        install_system
        install_python
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: scripts/dev.sh up|test|setup [args...]" >&2
        exit 2
        ;;
esac
