# Shared by scripts/serve and scripts/test: root helper and the project's virtual environment.

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Make .venv with Python >= 3.11 and install the project into it ($1: pip extras, e.g. "[dev]").
ensure_venv() {
    local extras="${1:-}"
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Takeoff needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1))" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv 2>/dev/null || { apt_install python3-venv && python3 -m venv .venv; }
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras}"
    if [ -f app/web/package.json ]; then
        command -v npm >/dev/null || apt_install npm
        (cd app/web && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
