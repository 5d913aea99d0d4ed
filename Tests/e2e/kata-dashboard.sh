#!/usr/bin/env bash
# End-to-end: the upstream Kata Grafana dashboard on KataPulse. A real Prometheus (Debian's) scrapes the agent
# collecting simulated Go and runtime-rs shims; each of the dashboard's 48 expressions
# (fixtures/kata-dashboard-expressions.tsv, quoted from the dashboard file) is evaluated. Every one must return
# data but those listed below with the reason no KataPulse node can have it; one of those returning data, or
# any other returning none, fails the test.
source "$(dirname "$0")/lib/common.bash"

# Expressions expected without data, and why.
declare -A no_data=(
    # A Swift process has no Go runtime: kata-monitor's Go collector families are not published (README).
    ["kata_monitor_go_goroutines"]="Go runtime of kata-monitor"
    ["kata_monitor_go_threads"]="Go runtime of kata-monitor"
    ["rate(kata_monitor_go_gc_duration_seconds_sum[5m])/rate(kata_monitor_go_gc_duration_seconds_count[5m])"]="Go runtime of kata-monitor"
    # Removed from the Go shim in Kata 3.3.0 (it read the host's network namespace).
    ["kata_shim_netdev"]="no shim since 3.3.0"
    # The agent's process collector left its registry in 3.1.0 (private registry since).
    ["kata_agent_process_open_fds"]="no agent since 3.1.0"
    ["kata_agent_process_resident_memory_bytes"]="no agent since 3.1.0"
)

"$bin" simulate --root "$work/sbs" --sandboxes 4 --flavor mixed >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
simulator_started() { [ "$(wc -l <"$work/sim.out")" -ge 4 ]; }
wait_for "simulator did not start" simulator_started

read -r AGENT_PORT PROM_PORT < <(free_port 2)
"$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$AGENT_PORT" --metrics-interval-secs 1 \
    --runtime-endpoint none 2>"$work/agent.err" &
pids+=($!)
wait_http "http://127.0.0.1:$AGENT_PORT/healthz" || fail "agent did not start: $(tail -3 "$work/agent.err")"

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kata
    static_configs:
      - targets: ["127.0.0.1:$AGENT_PORT"]
YAML
start_prometheus "$PROM_PORT"

# rate() needs its counter to move inside the window: a simulated Go shim's GC runs every 15-30 s and its
# agent answers GetMetrics every 15 s (simulated time), so 35 s of samples.
enough_samples() {
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=count_over_time(up[1m])' |
        jq -e '.data.result[0].value[1] | tonumber >= 35' >/dev/null
}
WAIT_SECONDS=90 wait_for "prometheus has not scraped 35 times" enough_samples

for expr in "${!no_data[@]}"; do echo "$expr"; done >"$work/no-data.txt"
python3 - "http://127.0.0.1:$PROM_PORT/api/v1" Tests/e2e/fixtures/kata-dashboard-expressions.tsv "$work/no-data.txt" <<'PY'
import json, sys, urllib.parse, urllib.request

api, fixture, no_data = sys.argv[1:4]
expected_empty = {line for line in open(no_data).read().splitlines() if line}
expressions = [line.rstrip("\n").split("\t", 1) for line in open(fixture) if not line.startswith("#")]
assert len(expressions) == 48, len(expressions)
failures = with_data = 0
for title, expr in expressions:
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", (expr, body)
    result = body["data"]["result"]
    # A value that is NaN is data too (e.g. a quantile over no observations), but not what a panel wants.
    values = [float(r["value"][1]) for r in result]
    has_data = any(v == v for v in values)
    with_data += has_data
    ok = has_data != (expr in expected_empty)
    failures += not ok
    status = "ok  " if ok else "FAIL"
    print(f"{status} {'data' if has_data else 'none'} {len(result):4} series  {title[:32]:32}  {expr[:90]}")
print(f"{with_data} of {len(expressions)} expressions have data; expected without: {len(expected_empty)}")
sys.exit(1 if failures else 0)
PY
echo "kata-dashboard: ok"
