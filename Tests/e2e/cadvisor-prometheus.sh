#!/usr/bin/env bash
# End-to-end: a real Prometheus (Debian's) scrapes the agent collecting simulated shims for four pod sandboxes
# run through a real containerd's CRI; the cAdvisor series it stores must match each simulated guest's ground
# truth within 10%, per pod as dashboards ask:
#   sum by (namespace, pod) (rate(container_cpu_usage_seconds_total[1m]))     vs cpu_cores
#   sum by (namespace, pod) (container_memory_working_set_bytes)              vs working_set_bytes
#   sum by (namespace, pod) (rate(container_network_receive_bytes_total[1m])) vs receive_bytes_per_second
#   (and transmit), and the target is up with no scrape error. The pod-level rows (container="") are the
#   guests'; pod app-0 also runs a real container, whose per-container rows must answer kubernetes-mixin's
#   selectors with what its cgroup files say:
#   sum by (pod, container) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[1m]))
#   container_memory_working_set_bytes{container!="", image!=""}
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/containerd.bash"

ids=()
for index in 0 1 2 3; do
    ids+=("$(cri run "app-$index" "team-$((index % 2))" "0b5d6b2e-0000-4000-8000-00000000000$index" kata)")
done
cri list >"$work/pods.txt"
app=$(start_app_container "${ids[0]}" app-0 team-0 0b5d6b2e-0000-4000-8000-000000000000) ||
    fail "could not start the app container"
echo "container app in app-0: $app"
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
start_prometheus "$PROM_PORT"
api="http://127.0.0.1:$PROM_PORT/api/v1"
echo "prometheus ready; collecting a minute of samples for rate()[1m]"
# rate() over 1m divides by the whole window, so the window must be full of samples.
sleep 70

python3 - "$api" "$work/truth.txt" "$work/pods.txt" "$app" <<'PY'
import json, sys, urllib.parse, urllib.request

api, truth_file, pods_file, app = sys.argv[1:5]
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
    ("cpu cores", by + ' (rate(container_cpu_usage_seconds_total{container="",cpu="total"}[1m]))', "cpu_cores"),
    ("working set", by + ' (container_memory_working_set_bytes{container=""})', "working_set_bytes"),
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

# The real container, as kubernetes-mixin selects it, against its cgroup (v1 or v2) files.
def values(expr):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["data"]["result"]

def cgroup_dirs(container_id):
    import glob
    for path in glob.glob("/proc/[0-9]*/cgroup"):
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        if any(container_id in line for line in lines):
            return {(c or "unified"): p for _, c, p in (line.split(":", 2) for line in lines)}
    raise SystemExit(f"no process of container {container_id}")

def read(path):
    return open(path).read()

dirs = cgroup_dirs(app)
cpuacct = next((c for c in dirs if "cpuacct" in c.split(",")), None)
if cpuacct:
    cpu_dir = f"/sys/fs/cgroup/{cpuacct}{dirs[cpuacct]}"
    cgroup_cpu = int(read(cpu_dir + "/cpuacct.usage")) / 1e9
    memory_dir = "/sys/fs/cgroup/memory" + dirs["memory"]
    stat = dict(line.split() for line in read(memory_dir + "/memory.stat").splitlines())
    cgroup_working_set = int(read(memory_dir + "/memory.usage_in_bytes")) - int(stat["total_inactive_file"])
else:
    unified = "/sys/fs/cgroup" + dirs["unified"]
    stat = dict(line.split() for line in read(unified + "/cpu.stat").splitlines())
    cgroup_cpu = int(stat["usage_usec"]) / 1e6
    memory = dict(line.split() for line in read(unified + "/memory.stat").splitlines())
    cgroup_working_set = int(read(unified + "/memory.current")) - int(memory["inactive_file"])

selector = '{container!="", image!=""}'
rate = values("sum by (pod, container) (rate(container_cpu_usage_seconds_total" + selector + "[1m]))")
working = values("container_memory_working_set_bytes" + selector)
total = values("container_cpu_usage_seconds_total" + selector)
print(f"app: rate {rate}, working set {working}")
assert [(r["metric"]["pod"], r["metric"]["container"]) for r in rate] == [("app-0", "app")], rate
cores = float(rate[0]["value"][1])
ok = 0.1 <= cores <= 0.35
failures += not ok
print(f"{'ok  ' if ok else 'FAIL'} app cpu cores {cores:.3f} (the program works 50 ms in 250: about 0.2)")
assert len(working) == 1 and working[0]["metric"]["namespace"] == "team-0", working
memory = float(working[0]["value"][1])
ok = memory >= 40 * 2**20 and abs(memory - cgroup_working_set) < 8 * 2**20
failures += not ok
print(f"{'ok  ' if ok else 'FAIL'} app working set {memory / 2**20:.1f} MiB, cgroup {cgroup_working_set / 2**20:.1f} MiB")
# Prometheus's last sample is at most a scrape and an agent interval old: a few seconds of 0.2 cores.
cpu = float(total[0]["value"][1])
ok = 0 < cpu <= cgroup_cpu + 1e-6 and cgroup_cpu - cpu < 3
failures += not ok
print(f"{'ok  ' if ok else 'FAIL'} app cpu {cpu:.3f} s, cgroup {cgroup_cpu:.3f} s")
sys.exit(1 if failures else 0)
PY
echo "cadvisor-prometheus: ok"
