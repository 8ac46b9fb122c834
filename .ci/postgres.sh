#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the gradebook tests, installing it
# from Debian's packages when missing. Prints the SQLAlchemy URL to use on stdout.
set -euo pipefail
# A free port on 127.0.0.1 (a server from an earlier run may still hold another one).
PORT=${PGPORT_TEST:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian packages …" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
fi
BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
RUN_AS=()
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN_AS=(runuser -u postgres --)
fi
DATA=$(mktemp -d /tmp/course-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$DATA"
"${RUN_AS[@]}" "$BIN/initdb" -D "$DATA" -A trust -U course >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
  -o "-h 127.0.0.1 -p $PORT -k $DATA" start >&2
"${RUN_AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U course gradebook
echo "postgresql+psycopg2://course@127.0.0.1:$PORT/gradebook"
