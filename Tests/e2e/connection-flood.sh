#!/usr/bin/env bash
# End-to-end: a hostile client cannot blind the API or starve collection. The agent runs with 1,024
# descriptors (`ulimit -n 1024`, systemd's default soft limit) on 20 simulated shims, with the default limits
# (512 connections, 10 s to send a request head), while a flooder opens
# 1,100 idle connections and 400 that send half a request head and stop. All the while a fresh client's /metrics answers 200 within a second, every sandbox stays up round after round,
# no shim fetch fails and the agent's memory stays bounded; after the flood the connections drain.
source "$(dirname "$0")/lib/common.bash"
read -r port < <(free_port)
sandboxes=20

"$bin" simulate --root "$work/sbs" --sandboxes "$sandboxes" --flavor mixed >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
simulated() { [ "$(wc -l <"$work/sim.out")" -ge "$sandboxes" ]; }
wait_for "the simulator did not start" simulated
(
    ulimit -n 1024
    exec "$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$port" --metrics-interval-secs 1 \
        --runtime-endpoint none
) 2>"$work/agent.err" &
agent=$!
pids+=("$agent")
all_up() {
    curl -fsS "http://127.0.0.1:$port/sandboxes?format=json" \
        | jq -e "length == $sandboxes and all(.status == \"up\")"
}
poll all_up || fail "the agent never had every sandbox up: $(tail -3 "$work/agent.err")"
[ "$(awk '/Max open files/ {print $4}' "/proc/$agent/limits")" = 1024 ] || fail "the agent's limit is not 1024"
errors_before=$(curl -fsS "http://127.0.0.1:$port/metrics?filter_family=kata_pulse_shim_scrape_errors_total" \
    | awk '!/^#/ {sum += $2} END {print sum + 0}')
rounds_before=$(metric "$port" kata_pulse_collection_rounds_total)

echo "== 1,100 idle and 400 half-head connections"
python3 Tests/e2e/lib/flood.py "$port" 1100 400 20 >"$work/flood.out" 2>"$work/flood.err" &
flooder=$!
pids+=("$flooder")
flooding() { [ "$(tail -1 "$work/flood.out" | sed -n 's/.*opened=\([0-9]*\).*/\1/p')" -ge 1500 ]; }
poll flooding ||
    fail "the flooder never opened its 1,500 connections: $(tail -2 "$work/flood.out") $(cat "$work/flood.err")"
peak_rss=0
for second in $(seq 1 10); do
    start=$(date +%s%N)
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/metrics") \
        || fail "second $second of the flood: /metrics did not answer within a second"
    [ "$code" = 200 ] || fail "second $second of the flood: /metrics answered $code"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    all_up >/dev/null || fail "second $second of the flood: a sandbox is not up"
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
    [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
    echo "  second $second: /metrics 200 in ${elapsed_ms} ms, all $sandboxes sandboxes up, RSS $((rss / 1024)) MB," \
        "$(tail -1 "$work/flood.out")"
    sleep 1
done
[ "$peak_rss" -lt $((300 * 1024)) ] || fail "RSS reached $((peak_rss / 1024)) MB during the flood"
kill "$flooder"
wait "$flooder" 2>/dev/null || true

echo "== after the flood"
rounds_after=$(metric "$port" kata_pulse_collection_rounds_total)
[ "$rounds_after" -ge $((rounds_before + 8)) ] || fail "only $((rounds_after - rounds_before)) rounds during the flood"
errors_after=$(curl -fsS "http://127.0.0.1:$port/metrics?filter_family=kata_pulse_shim_scrape_errors_total" \
    | awk '!/^#/ {sum += $2} END {print sum + 0}')
[ "$errors_after" = "$errors_before" ] || fail "shim fetches failed during the flood ($errors_before → $errors_after)"
closed=$(curl -fsS "http://127.0.0.1:$port/metrics?filter_family=kata_pulse_http_connections_closed_total")
evicted=$(awk '/reason="evicted"/ {print $2}' <<<"$closed")
timed_out=$(awk '/reason="head_timeout"/ {print $2}' <<<"$closed")
[ "${evicted:-0}" -ge 1 ] || fail "no connection was evicted: $closed"
# filter_family matches by prefix: pick the gauge by its exact name.
open_connections() {
    curl -fsS "http://127.0.0.1:$port/metrics?filter_family=kata_pulse_http_connections" \
        | awk '$1 == "kata_pulse_http_connections" {print $2}'
}
drained() { [ "$(open_connections)" -le 2 ]; }
poll drained || fail "connections did not drain: $(open_connections) open"
all_up >/dev/null || fail "a sandbox is not up after the flood"
echo "rounds during the flood: $((rounds_after - rounds_before)); shim errors: 0; evicted: $evicted;" \
    "head timeouts: ${timed_out:-0}; peak RSS $((peak_rss / 1024)) MB"
echo "connection-flood: ok"
