# Shared by scripts/serve and scripts/test: root helper and the project's virtual environment.

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# What the installed environment was made from: the project's and the web libraries' locks.
install_fingerprint() {
    cat pyproject.toml app/web/package.json app/web/package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1
}

# Make .venv with Python >= 3.11 and install the project into it ($1: pip extras, e.g.
# "[dev]"). Skipped when nothing it installs from changed since the last time (a stamp in .venv
# per set of extras), so a second start takes seconds and needs no network. The build backend
# (hatchling, and editables for the editable install) is installed into .venv once and used
# from there (--no-build-isolation): a reinstall then needs no index for it. setuptools 70.1+
# builds the dependencies published only as source (docopt, under num2words) without `wheel`.
ensure_venv() {
    local extras="${1:-}"
    local stamp=".venv/.installed${extras}"
    local fingerprint
    fingerprint="$(install_fingerprint)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] && [ -x .venv/bin/takeoff ]; then
        return
    fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Takeoff needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1))" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv 2>/dev/null || { apt_install python3-venv && python3 -m venv .venv; }
        .venv/bin/python -m pip install -q --upgrade pip
    fi
    .venv/bin/python -c 'import hatchling, editables, setuptools.command.bdist_wheel' 2>/dev/null ||
        .venv/bin/python -m pip install -q "hatchling>=1.25" "editables~=0.3" "setuptools>=70.1"
    .venv/bin/python -m pip install -q --no-build-isolation -e ".${extras}"
    if [ -f app/web/package.json ]; then
        command -v npm >/dev/null || apt_install npm
        (cd app/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    fi
    echo "$fingerprint" >"$stamp"
    # the extras include the plain install
    [ -z "$extras" ] || echo "$fingerprint" >.venv/.installed
}
