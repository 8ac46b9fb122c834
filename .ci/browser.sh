#!/usr/bin/env bash
# What the browser tests (tests/test_browser.py, `make test-browser`) need: Debian's Chromium
# and the Playwright Python package, each installed only when missing (safe to run again).
# Never `playwright install`: the tests drive /usr/bin/chromium, not a browser Playwright
# downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CHROMIUM=${COURSE_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ]; then
  echo "installing Chromium from Debian packages …" >&2
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install chromium" >&2; exit 1; }
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq >&2
  "${SUDO[@]}" apt-get install -y -qq chromium >&2
fi

if ! "$PY" -c "import playwright.sync_api" 2>/dev/null; then
  # The version pinned in requirements.txt when it is there.
  requirement=$(grep -E '^playwright([=<>~ ]|$)' requirements.txt || echo playwright)
  echo "installing $requirement …" >&2
  "$PY" -m pip install --quiet "$requirement"
fi
