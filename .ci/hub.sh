#!/usr/bin/env bash
# The class on a real JupyterHub (tests/test_hub.py, marker hub): what it needs, then the test.
# As root (it creates local users dlc-test-*, removed afterwards even when the test fails).
# `python -m grader hub install` (run by the test) builds the hub venv on Debian's Python and
# installs configurable-http-proxy with npm; Chromium and Playwright come from .ci/browser.sh.
# With COURSE_TEST_POSTGRES_URL set (.ci/run), the class's gradebook is on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v npm >/dev/null || missing+=(nodejs npm)
command -v useradd >/dev/null || missing+=(passwd)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null \
  || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian packages …" >&2
  apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2
fi
bash .ci/browser.sh
make test-hub
