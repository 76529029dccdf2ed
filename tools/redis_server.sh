#!/usr/bin/env bash
# Print the path of redis-server, installing Debian's package (redis-server) where it is
# missing.  Used by the tests (tests/redis_server.py) and the shared-limiter example; the
# server itself is started by them on a free 127.0.0.1 port and stopped by its PID.
set -euo pipefail
if path=$(command -v redis-server); then
    echo "$path"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "redis-server is missing; install it (e.g. sudo apt-get install redis-server)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package must not start a system service of its own: only the tests' server runs.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
if ! apt-get install -y -qq --no-install-recommends redis-server >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends redis-server >&2
fi
command -v redis-server
