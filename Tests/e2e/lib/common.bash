# Shared set-up for the end-to-end scripts (sourced, not run): a work directory removed on exit, background
# processes (append their pids to `pids`) ended on exit, `fail`, the pollers, `free_port`, `metric`, the
# exposition parser (Tests/e2e/lib/exposition.py) on PYTHONPATH, and the agent in `$bin`. Builds nothing:
# `$bin` is $KATA_PULSE_BINARY if set (CI sets it to the release binary), else the debug build's
# kata-pulse (`swift build` first).
set -euo pipefail
# A relative KATA_PULSE_BINARY names a file from where the script was started; made absolute before the cd,
# and for the scripts that read it again (packaging/build-deb.sh, deploy/build-image.sh).
if [ -n "${KATA_PULSE_BINARY:-}" ]; then
    KATA_PULSE_BINARY=$(realpath -m -- "$KATA_PULSE_BINARY")
    export KATA_PULSE_BINARY
fi
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
# `swift build --show-bin-path` prints the path without building.
bin=${KATA_PULSE_BINARY:-$(swift build --show-bin-path 2>/dev/null || true)/kata-pulse}
[ -x "$bin" ] || fail "no agent binary at $bin: run \`swift build\` first or set KATA_PULSE_BINARY"
work=$(mktemp -d "/tmp/kp-$(basename "$0" .sh)-XXXXXX")
pids=()
e2e_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap e2e_cleanup EXIT
# (No __pycache__ written into the source tree.)
export PYTHONPATH="$PWD/Tests/e2e/lib${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1

# poll COMMAND…: runs COMMAND (output discarded) until it succeeds, every 0.2 s for WAIT_SECONDS (30 unless
# set: `WAIT_SECONDS=5 poll …`); returns 1 when the time is up. COMMAND's arguments are expanded once, at
# the call: poll a function that reads the state afresh.
poll() {
    local tries=$((${WAIT_SECONDS:-30} * 5))
    until "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.2
    done
}
# wait_for DESCRIPTION COMMAND…: polls COMMAND (as poll: 30 s unless WAIT_SECONDS), else fails with
# DESCRIPTION. DESCRIPTION too is expanded at the call: for a message with the state at the time of the
# failure (a log's tail), write `poll COMMAND… || fail "…$(tail -3 "$work/agent.err")"`.
wait_for() {
    local what=$1
    shift
    poll "$@" || fail "$what"
}
# wait_http CURL-ARGS…: polls until curl succeeds (as poll); returns 1 when it never does.
wait_http() { poll curl -fsS "$@"; }
# start_prometheus PORT [FLAG…]: Debian's Prometheus on 127.0.0.1:PORT with $work/prometheus.yml, its data in
# $work/tsdb and its log in $work/prometheus.log, ended on exit; returns once it is ready (fails otherwise).
start_prometheus() {
    local port=$1
    shift
    prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
        --web.listen-address="127.0.0.1:$port" --log.level=warn "$@" >"$work/prometheus.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$port/-/ready" || fail "prometheus did not get ready: $(tail -3 "$work/prometheus.log")"
}
# process_gone PID: the process has exited (for `poll process_gone PID`).
process_gone() { ! kill -0 "$1" 2>/dev/null; }
# free_port [N]: N (default 1) TCP ports free at this moment on every address, distinct, on one line (all
# bound at once, then released): `port=$(free_port)`, `read -r a b < <(free_port 2)`.
# shellcheck disable=SC2120  # N is optional
free_port() {
    python3 -c '
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("0.0.0.0", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
' "${1:-1}"
}
# metric PORT FAMILY: the value of an agent's unlabelled family, from /metrics?filter_family=.
metric() { curl -fsS "http://127.0.0.1:$1/metrics?filter_family=$2" | awk '!/^#/ {print $2}'; }
