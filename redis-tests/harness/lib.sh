# SPDX-License-Identifier: BSD-3-Clause
# lib.sh: shared shell helpers for the black-box suites.  Source it; it defines:
#
#   tap_ok NAME / tap_fail NAME [DETAIL...] / tap_skip NAME REASON / tap_check NAME CMD...
#       print one result line ("ok - NAME", "not ok - NAME", "ok - NAME # SKIP REASON") to
#       stdout and append it to $TAP_OUT when set.
#   free_port                print a TCP port on 127.0.0.1 that nothing listens on
#   start_server NAME ARGS.. start the server under test on a free loopback port; sets
#                            ${NAME}_PORT and ${NAME}_PID; logs go to $WORK/NAME.log
#   stop_server NAME         SIGTERM that PID, wait up to 10 s, then SIGKILL it
#   stop_all_servers         stop every server started by this shell (installed as EXIT trap)
#
# The server is $REPRAM_SERVER (default: $BUILD/bin/repram-server).  For developing a suite
# before a feature exists, REPRAM_SERVER=/usr/bin/redis-server runs it against real Redis.
# Processes are only ever stopped by the PIDs this shell started.

set -u
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HARNESS_DIR/../.." && pwd)
BUILD=${BUILD:-build/release}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
CACHE=${CACHE:-build/cache}
case "$CACHE" in /*) ;; *) CACHE="$TOP/$CACHE" ;; esac
REPRAM_SERVER=${REPRAM_SERVER:-$BUILD/bin/repram-server}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/repram-test.XXXXXX")}
TAP_OUT=${TAP_OUT:-}
STARTED_PIDS=""
# Servers started by the suites listen for HTTP only when a test asks (--http-port N on the
# command line overrides the environment): side by side they would all want the default 8080.
export REPRAM_HTTP_PORT=${REPRAM_HTTP_PORT:-0}

tap_emit() {
    printf '%s\n' "$1"
    if [ -n "$TAP_OUT" ]; then printf '%s\n' "$1" >>"$TAP_OUT"; fi
}
tap_ok() { tap_emit "ok - $1"; }
tap_fail() {
    local name=$1; shift
    tap_emit "not ok - $name"
    local line
    for line in "$@"; do tap_emit "#   $line"; done
}
tap_skip() { tap_emit "ok - $1 # SKIP $2"; }
# tap_check NAME CMD...: ok when CMD exits 0; its output is shown only on failure.
tap_check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then tap_ok "$name"; else
        tap_fail "$name" "command: $*" "$(printf '%s' "$out" | tail -n 15)"
    fi
}

free_port() {
    /usr/bin/python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    # the cluster bus uses port + 10000 by default: keep that free too
    if p + 10000 < 65536:
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 10000))
        except OSError:
            continue
        finally:
            t.close()
    print(p)
    break
PY
}

# wait_port PORT [SECONDS [PID]]: wait until something accepts on 127.0.0.1:PORT; with PID, give
# up as soon as that process has exited.
wait_port() {
    local port=$1 secs=${2:-10} pid=${3:-} i=0
    while [ "$i" -lt $((secs * 20)) ]; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

start_server() {
    local name=$1; shift
    local port pid
    port=$(free_port)
    local extra=()
    case "$(basename "$REPRAM_SERVER")" in
        redis-server) extra=(--save '' --appendonly no --dir "$WORK") ;;
    esac
    "$REPRAM_SERVER" --port "$port" --bind 127.0.0.1 "${extra[@]}" "$@" >"$WORK/$name.log" 2>&1 &
    pid=$!
    STARTED_PIDS="$STARTED_PIDS $pid"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
    if ! wait_port "$port" 10 "$pid"; then
        echo "start_server $name: nothing listening on $port (the process exited, or 10 s passed); log:" >&2
        tail -n 20 "$WORK/$name.log" >&2
        return 1
    fi
}

stop_pid() {
    local pid=$1 i=0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
    return 0
}

stop_server() {
    local pidvar="${1}_PID"
    stop_pid "${!pidvar}"
}

stop_all_servers() {
    local pid
    for pid in $STARTED_PIDS; do stop_pid "$pid"; done
    STARTED_PIDS=""
}
trap stop_all_servers EXIT
