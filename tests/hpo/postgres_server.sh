#!/bin/sh
# Starts and stops the throwaway PostgreSQL server that hpo's PostgreSQL tests run against.
#
#   postgres_server.sh start STATE   a fresh cluster in a new directory under /tmp, listening on
#                                    127.0.0.1 at a free port (its unix socket in that directory),
#                                    with a database nabla_test; writes STATE: url=, dir=, bin=,
#                                    or skip=<why> where no server binaries are installed
#   postgres_server.sh stop STATE    stops that server and removes its directory and STATE
#
# ctest runs these as the fixture of the PostgreSQL tests; a test program run by hand runs them
# itself. The server refuses to run as root, so as root it runs as Debian's `postgres` user.
# Durability is off (fsync, full-page writes): the cluster lives only as long as the tests.
set -eu

usage() { echo "usage: $0 start|stop STATE" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
state=$2

value() { sed -n "s/^$1=//p" "$state" 2>/dev/null; }

stop() {
  [ -s "$state" ] || { rm -f "$state"; return 0; }
  dir=$(value dir)
  bin=$(value bin)
  if [ -n "$dir" ] && [ -d "$dir/data" ]; then
    $as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$dir" ] && rm -rf "$dir"
  rm -f "$state"
}

as=""
if [ "$(id -u)" = 0 ]; then
  as="runuser -u postgres --"
fi

case $command in
  stop) stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

# A server left behind by a run that crashed goes first.
stop

bin=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r) \
                 "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"; do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/createdb" ]; then
    bin=$candidate
    break
  fi
done
if [ -z "$bin" ]; then
  reason="no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH; Debian's postgresql package installs them"
  echo "skip=$reason" > "$state"
  echo "PostgreSQL tests skipped: $reason"
  exit 0
fi
if [ -n "$as" ] && ! id postgres >/dev/null 2>&1; then
  echo "$0: running as root, but there is no 'postgres' user to run the server as" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/nabla-postgres.XXXXXX)
printf 'dir=%s\nbin=%s\n' "$dir" "$bin" > "$state"
# Whatever fails from here on leaves nothing behind but its log on stderr.
on_exit() {
  status=$?
  if [ "$status" -ne 0 ]; then
    if [ -f "$dir/server.log" ]; then cat "$dir/server.log" >&2; fi
    stop
  fi
}
trap on_exit EXIT
[ -n "$as" ] && chown postgres: "$dir"

$as "$bin/initdb" -D "$dir/data" -U nabla -A trust -E UTF8 --locale=C --no-sync \
  --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# A port another program holds makes the server exit at once; then the next one is tried.
port=""
tries=0
while [ -z "$port" ]; do
  tries=$((tries + 1))
  candidate=$(( ($(od -An -N2 -tu2 /dev/urandom) % 30000) + 20000 ))
  if $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $candidate" -w -t 60 start \
      >/dev/null 2>&1; then
    port=$candidate
  elif [ $tries -ge 20 ] || ! grep -q "could not bind\|could not create any TCP/IP sockets" \
      "$dir/server.log"; then
    echo "$0: the server did not start (port $candidate, try $tries)" >&2
    exit 1
  fi
done

"$bin/createdb" -h 127.0.0.1 -p "$port" -U nabla nabla_test
echo "url=postgresql://nabla@127.0.0.1:$port/nabla_test" >> "$state"
echo "PostgreSQL $("$bin/postgres" --version | sed "s/^[^0-9]*\([0-9.]*\).*/\1/") at 127.0.0.1:$port, in $dir"
