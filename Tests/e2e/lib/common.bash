# Shared set-up for the end-to-end scripts (sourced, not run): a work directory removed on exit, background
# processes (append their pids to `pids`) ended on exit, `fail`, and the built agent in `$bin`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
work=$(mktemp -d "/tmp/kp-$(basename "$0" .sh)-XXXXXX")
pids=()
e2e_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap e2e_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
swift build --product kata-pulse >/dev/null
bin="$(swift build --show-bin-path)/kata-pulse"
# wait_http CURL-ARGS…: polls until curl succeeds (10 s at most).
wait_http() {
    for _ in $(seq 1 100); do curl -fsS "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
# metric PORT FAMILY: the value of an agent's unlabelled family, from /metrics?filter_family=.
metric() { curl -fsS "http://127.0.0.1:$1/metrics?filter_family=$2" | awk '!/^#/ {print $2}'; }
# wait_for DESCRIPTION COMMAND…: polls COMMAND for 30 s, else fails with DESCRIPTION. COMMAND's arguments are
# expanded once, at the call: poll a function that reads the state afresh.
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    fail "$what"
}
