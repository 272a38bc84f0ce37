#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the plugin's tests and benchmark.
#
#   ci/cluster.sh start DIR PORT   initdb in DIR (owned by the postgres user), listen on
#                                  127.0.0.1:PORT only, create the role `dualduty` with
#                                  the password `dualduty-test` and the database
#                                  `dualduty`; print the URL for DUALDUTY_TEST_POSTGRES_URL
#   ci/cluster.sh stop DIR         stop the server and remove DIR
#
# The server refuses to run as root, so initdb and pg_ctl run as `postgres`
# (runuser when this script runs as root). Authentication on loopback: `trust` for the
# postgres superuser (the tests' admin connection), a password (scram-sha-256) for
# every other role, so that a wrong password can be tested. Durability stays as
# shipped (fsync, synchronous_commit on); shared_buffers and max_wal_size are raised
# as for a production server, so that the benchmark's million-record load is not
# measured against 128 MB of buffers and a checkpoint every gigabyte.
#
#   DUALDUTY_PG_DEFAULTS=1 ci/cluster.sh start DIR PORT
#                                  the same, but with the server's settings as initdb
#                                  ships them (shared_buffers 128MB, max_wal_size 1GB):
#                                  only where it listens and max_connections are set
set -euo pipefail

action=${1:?usage: cluster.sh start|stop DIR [PORT]}
dir=${2:?usage: cluster.sh start|stop DIR [PORT]}
port=${3:-55432}

bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$found" || ! -x "$found/initdb" ]]; then
    echo "cluster.sh: no PostgreSQL server binaries; installing Debian's postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
start)
  bin=$(bindir)
  if [[ -e "$dir" ]]; then
    echo "cluster.sh: $dir exists; stop the old cluster first (cluster.sh stop $dir)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log"
  # loopback only: trust for the admin role, passwords for the rest
  cat >"$dir/data/pg_hba.conf" <<HBA
local all postgres trust
host  all postgres 127.0.0.1/32 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
  options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200"
  if [[ "${DUALDUTY_PG_DEFAULTS:-}" != 1 ]]; then
    options+=" -c shared_buffers=512MB -c max_wal_size=4GB"
  fi
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" \
    start >/dev/null
  as_postgres "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE ROLE dualduty LOGIN CREATEDB PASSWORD 'dualduty-test';
CREATE DATABASE dualduty OWNER dualduty;
SQL
  echo "postgresql://dualduty@127.0.0.1:$port/dualduty"
  ;;
restart)
  bin=$(bindir)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast restart >/dev/null
  ;;
stop)
  if [[ -d "$dir/data" ]]; then
    bin=$(bindir)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: cluster.sh start DIR PORT | restart DIR | stop DIR" >&2
  exit 2
  ;;
esac
