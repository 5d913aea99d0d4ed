#!/usr/bin/env bash
# End-to-end: a real Prometheus (Debian's) scrapes the agent collecting simulated shims for four pod sandboxes
# run through a real containerd's CRI; the cAdvisor series it stores must match each simulated guest's ground
# truth within 10%, per pod as dashboards ask:
#   sum by (namespace, pod) (rate(container_cpu_usage_seconds_total[1m]))     vs cpu_cores
#   sum by (namespace, pod) (container_memory_working_set_bytes)              vs working_set_bytes
#   sum by (namespace, pod) (rate(container_network_receive_bytes_total[1m])) vs receive_bytes_per_second
#   (and transmit), and the target is up with no scrape error.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/containerd.bash"

ids=()
for index in 0 1 2 3; do
    ids+=("$(cri run "app-$index" "team-$((index % 2))" "0b5d6b2e-0000-4000-8000-00000000000$index" kata)")
done
cri list >"$work/pods.txt"
"$bin" simulate --root "$work/sbs" --sandboxes 4 --ids "$(IFS=,; echo "${ids[*]}")" --flavor mixed \
    >"$work/truth.txt" 2>"$work/sim.err" &
pids+=($!)
simulator_started() { [ "$(wc -l <"$work/truth.txt")" -ge 4 ]; }
poll simulator_started || fail "simulator did not start: $(cat "$work/sim.err")"

read -r AGENT_PORT PROM_PORT < <(free_port 2)
"$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$AGENT_PORT" --metrics-interval-secs 2 \
    --runtime-endpoint "$work/c.sock" 2>"$work/agent.err" &
pids+=($!)

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: kata-pulse
    static_configs:
      - targets: ["127.0.0.1:$AGENT_PORT"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

api="http://127.0.0.1:$PROM_PORT/api/v1"
wait_http "http://127.0.0.1:$PROM_PORT/-/ready" || fail "prometheus did not get ready: $(tail -3 "$work/prometheus.log")"
echo "prometheus ready; collecting a minute of samples for rate()[1m]"
# rate() over 1m divides by the whole window, so the window must be full of samples.
sleep 70

python3 - "$api" "$work/truth.txt" "$work/pods.txt" <<'PY'
import json, sys, urllib.parse, urllib.request

api, truth_file, pods_file = sys.argv[1:4]
# Sandbox id -> "namespace/pod", as containerd's CRI lists them.
pods = {line.split()[0]: line.split()[1] for line in open(pods_file)}

def query(expr):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return {r["metric"].get("namespace", "") + "/" + r["metric"].get("pod", ""): float(r["value"][1])
            for r in body["data"]["result"]}

with urllib.request.urlopen(api + "/targets", timeout=10) as response:
    targets = json.load(response)["data"]["activeTargets"]
assert len(targets) == 1 and targets[0]["health"] == "up" and targets[0]["lastError"] == "", targets
up = query('up{job="kata-pulse"}')
assert list(up.values()) == [1.0], up

truth = {}
for line in open(truth_file):
    fields = line.split()
    values = dict(field.split("=", 1) for field in fields[4:])
    truth[pods[fields[0]]] = {k: float(v) for k, v in values.items()}
assert len(truth) == 4, truth

by = "sum by (namespace, pod)"
checks = [
    ("cpu cores", by + ' (rate(container_cpu_usage_seconds_total{cpu="total"}[1m]))', "cpu_cores"),
    ("working set", by + " (container_memory_working_set_bytes)", "working_set_bytes"),
    ("receive B/s", by + " (rate(container_network_receive_bytes_total[1m]))", "receive_bytes_per_second"),
    ("transmit B/s", by + " (rate(container_network_transmit_bytes_total[1m]))", "transmit_bytes_per_second"),
]
failures = 0
for label, expr, key in checks:
    measured = query(expr)
    for sandbox, expected in sorted(truth.items()):
        got = measured.get(sandbox)
        error = abs(got - expected[key]) / expected[key] if got is not None else float("inf")
        ok = error <= 0.10
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label:13} {sandbox:14}  truth {expected[key]:>14.6g}  prometheus {got if got is None else round(got, 6):>14}  error {error:.2%}")
sys.exit(1 if failures else 0)
PY
echo "cadvisor-prometheus: ok"
