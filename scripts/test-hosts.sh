#!/usr/bin/env bash
# Private Docker engines standing in for several hosts (issue 18): each in its
# own network, mount and UTS namespace with its own data root, exec root,
# pidfile, containerd, cgroup parent, hostname and identity, all on one bridge
# that lives in a namespace of its own; plain TCP with --tls=false. The
# berth-test/* stand-in images are copied in by `docker save | docker load`.
# The shared engine is never restarted, and no second dockerd ever runs in the
# host's namespaces.
#
#   bash scripts/test-hosts.sh start N     start N engines; prints NAME, DOCKER_HOST=tcp://…, unix socket, state
#   bash scripts/test-hosts.sh status      the same lines for the running bed
#   bash scripts/test-hosts.sh kill NAME   SIGKILL one engine with its containerd and containers (a crash)
#   bash scripts/test-hosts.sh up NAME     start it again
#   bash scripts/test-hosts.sh stop        remove the engines, their namespaces and directories
#
# The implementation is test/support/private-dockerd.ts (TestBed), the same the
# e2e tests and bench/hosts.ts use; this runs its compiled CLI (npm run build).
# Env: BERTH_TEST_HOSTS_DIR  where the running bed is recorded (default /tmp/berth-test-hosts)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLI="$ROOT/dist/test/support/test-hosts-cli.js"
[ -f "$CLI" ] || { echo "[test-hosts] $CLI is missing: run npm run build first" >&2; exit 1; }
exec node "$CLI" "$@"
