#!/usr/bin/env bash
# A throw-away PostgreSQL server for shiplog's tests (the PostgreSQL store's suites).
#
#   eval "$(.ci/postgres.sh start)"   # starts one in a temp dir, prints the exports
#   .ci/postgres.sh stop "$SHIPLOG_PG_DIR"
#
# `start` installs Debian's postgresql when initdb/pg_ctl are missing, creates a cluster in a new
# temporary directory owned by an unprivileged user (initdb refuses root), starts it on 127.0.0.1
# at a free port with fsync off (test data only), and prints `export` lines for
# SHIPLOG_TEST_DATABASE_URL and SHIPLOG_PG_DIR. Everything it prints on stdout is shell; progress
# goes to stderr.
set -euo pipefail

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

free_port() {
  local port
  for port in $(seq 54320 54420); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port in 54320-54420" >&2
  return 1
}

start() {
  local bin
  if ! bin=$(pg_bin); then
    echo "postgres.sh: installing postgresql (initdb/pg_ctl missing)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(pg_bin)
  fi
  local dir port run_as=()
  dir=$(mktemp -d "${TMPDIR:-/tmp}/shiplog-pg.XXXXXX")
  mkdir -p "$dir/data" "$dir/socket"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres >&2
    chown -R postgres "$dir"
    chmod 755 "$dir"
    run_as=(runuser -u postgres --)
  fi
  port=$(free_port)
  "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    -w start >&2 || {
    cat "$dir/server.log" >&2
    return 1
  }
  echo "export SHIPLOG_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export SHIPLOG_PG_DIR=$dir"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  local bin run_as=()
  bin=$(pg_bin) || return 0
  [ -d "$dir/data" ] || return 0
  [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-${SHIPLOG_PG_DIR:-}}" ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
