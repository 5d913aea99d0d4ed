#!/usr/bin/env bash
# Load run: the agent on SANDBOXES simulated shims (default 110), then wrk against /metrics plain and
# gzip. Prints latency percentiles, throughput, response sizes and the agent's RSS.
#   Benchmarks/load.sh                          # release build, 110 sandboxes, 20 s per run
#   BUILD=debug DURATION=3 Benchmarks/load.sh   # quick smoke run on a debug build
#   KATA_PULSE_BINARY=path Benchmarks/load.sh   # that binary, built by nothing here (CI: its release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
SANDBOXES=${SANDBOXES:-110}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
BUILD=${BUILD:-release}

build=$BUILD
if [ -n "${KATA_PULSE_BINARY:-}" ]; then
    build=$KATA_PULSE_BINARY
else
    flags=(-c "$BUILD")
    [ "$BUILD" = release ] && flags+=(--static-swift-stdlib)  # the release binary the README describes
    swift build "${flags[@]}" --product kata-pulse >/dev/null
    KATA_PULSE_BINARY="$(swift build "${flags[@]}" --show-bin-path)/kata-pulse"
fi
# The end-to-end scripts' set-up: $work, $pids ended on exit, the pollers, free_port, metric; $bin is
# KATA_PULSE_BINARY.
source Tests/e2e/lib/common.bash
PORT=$(free_port)

"$bin" simulate --root "$work/sbs" --sandboxes "$SANDBOXES" --flavor mixed >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
# The waits below go on when their time is up: the check after them decides.
simulator_started() { [ "$(wc -l <"$work/sim.out")" -ge "$SANDBOXES" ]; }
poll simulator_started || true
"$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$PORT" --metrics-interval-secs "${INTERVAL:-5}" \
    --runtime-endpoint none 2>"$work/agent.err" &
agent=$!
pids+=("$agent")
all_up() {
    curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -e "length == $SANDBOXES and all(.status == \"up\")"
}
poll all_up || true
curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -e "all(.status == \"up\")" >/dev/null \
    || { echo "not every sandbox is up:" >&2; curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -c ".[] | [.status, .last_error]" | sort | uniq -c >&2; tail -5 "$work/agent.err" >&2; exit 1; }

# Wait for a full round over every sandbox (the first round may have run before discovery).
two_rounds() { [ "$(metric "$PORT" kata_pulse_collection_rounds_total)" -ge 2 ]; }
poll two_rounds || true

plain=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | wc -c)
gz=$(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics" | wc -c)
series=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -vc '^#')
round=$(metric "$PORT" kata_pulse_collection_round_duration)
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
echo "build=$build sandboxes=$SANDBOXES series=$series body=${plain}B gzip=${gz}B last_round=${round}s rss_idle=${rss_before}kB"

for mode in plain gzip; do
    header=()
    [ "$mode" = gzip ] && header=(-H 'Accept-Encoding: gzip')
    echo "--- wrk /metrics ($mode), ${CONNECTIONS} connections, ${DURATION}s"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "http://127.0.0.1:$PORT/metrics" \
        | grep -E 'Latency|50%|90%|99%|Requests/sec|Transfer/sec|requests in|Non-2xx|Socket errors'
done
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
echo "agent rss_after=${rss_after}kB peak=${hwm}kB"
kill -0 "$agent" || { echo "agent died" >&2; exit 1; }
