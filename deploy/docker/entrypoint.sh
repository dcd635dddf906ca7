#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# repram-entrypoint: the container image's entry point.
#
#   repram-entrypoint [--OPTION VALUE ...]   start repram-server with these arguments (the image's
#                                            CMD is --config /etc/repram/repram.yaml)
#   repram-entrypoint health [HOST]          exit 0 when GET /v1/health on HOST (default
#                                            127.0.0.1), port $REPRAM_HTTP_PORT (default 8080),
#                                            answers 200; the image's HEALTHCHECK
#   repram-entrypoint gen-secrets [DIR]      write a random cluster-secret and requirepass into
#                                            DIR (default /run/repram) unless they exist; used by
#                                            deploy/compose's one-shot "secrets" service
#   repram-entrypoint COMMAND [ARGS...]      run COMMAND (e.g. repram, sh)
#
# Secrets as files: for each of CLUSTER_SECRET, CLUSTER_SECRET_ACCEPT, REQUIREPASS, HTTP_WRITE_TOKEN
# and HTTP_READ_TOKEN, when
# REPRAM_<NAME>_FILE names a file, its content (without the final newline) becomes REPRAM_<NAME>.
# Files keep secrets out of `docker inspect` and out of compose files; repram-server itself
# only reads REPRAM_<NAME>.
#
# Why bash: the health check needs an HTTP client, and bash's /dev/tcp avoids shipping curl.
set -euo pipefail

health() {
    local host=${1:-127.0.0.1} port=${REPRAM_HTTP_PORT:-8080} status
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'GET /v1/health HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
    # The status line: HTTP/1.1 200 OK (503 while the node is LOADING).
    IFS=' ' read -r -t 3 _ status _ <&3 || exit 1
    [ "$status" = 200 ]
}

random_hex() {
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

gen_secrets() {
    local dir=${1:-/run/repram} name
    umask 077
    for name in cluster-secret requirepass; do
        if [ ! -s "$dir/$name" ]; then
            random_hex >"$dir/$name.tmp"
            mv "$dir/$name.tmp" "$dir/$name"
            echo "repram-entrypoint: generated $dir/$name"
        fi
    done
}

secret_files() {
    local name var file
    for name in CLUSTER_SECRET CLUSTER_SECRET_ACCEPT REQUIREPASS HTTP_WRITE_TOKEN HTTP_READ_TOKEN; do
        var="REPRAM_${name}_FILE"
        file=${!var:-}
        [ -n "$file" ] || continue
        if [ ! -r "$file" ]; then
            echo "repram-entrypoint: $var: cannot read $file" >&2
            exit 1
        fi
        export "REPRAM_${name}=$(cat "$file")"
        unset "$var"
    done
}

case "${1:-}" in
    health) shift; health "$@" ;;
    gen-secrets) shift; gen_secrets "$@" ;;
    "" | -*)
        secret_files
        exec repram-server "$@"
        ;;
    *) exec "$@" ;;
esac
