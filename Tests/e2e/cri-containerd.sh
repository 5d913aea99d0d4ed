#!/usr/bin/env bash
# End-to-end: pod metadata from a real containerd (Debian's, with its CRI plugin). Two pod sandboxes run
# through CRI (host network, a locally built pause image, handler "kata" backed by runc); simulated shims
# serve those sandbox ids; the agent, on containerd's socket, must
#   - label every series of those sandboxes with their real uid/name/namespace (kata and cAdvisor families)
#     and publish container_start_time_seconds from CRI's created_at;
#   - keep serving with the metadata it had when containerd is killed (kata_pulse_cri_up 0);
#   - notice containerd's restart by itself: cri_up 1 again, and a pod started after the restart is labelled;
#   - publish a real container's cAdvisor rows (container="app", the pod's labels) with the usage containerd
#     reads from its cgroup (a program that holds 48 MiB and burns some CPU), as it reads a Kata container's
#     from the guest.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/containerd.bash"
fail() { echo "FAIL: $*" >&2; tail -n 20 "$work/agent.log" >&2; exit 1; }

web=$(cri run web-0 team-a 6f1c2d3e-0000-4000-8000-00000000000a kata)
db=$(cri run db-0 team-b 6f1c2d3e-0000-4000-8000-00000000000b kata)
echo "pod sandboxes: web-0 $web, db-0 $db"

"$bin" simulate --root "$work/sbs" --sandboxes 2 --ids "$web,$db" >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
simulator_started() { [ "$(wc -l <"$work/sim.out")" -ge 2 ]; }
wait_for "simulator did not start" simulator_started

AGENT_PORT=$(free_port)
"$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$AGENT_PORT" --runtime-endpoint "unix://$work/c.sock" \
    --metrics-interval-secs 1 --cri-resync-secs 1 --log-format json 2>"$work/agent.log" &
pids+=($!)
wait_http "http://127.0.0.1:$AGENT_PORT/healthz" || fail "agent did not start"

# check_labels ID UID NAME NAMESPACE: every kata series of the sandbox and every cAdvisor series of it
# carries the pod's identity.
check_labels() {
    curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics" >"$work/metrics.txt"
    python3 - "$work/metrics.txt" "$@" <<'PY'
import sys, time
import exposition
path, sandbox, uid, name, namespace = sys.argv[1:6]
kata = cadvisor = 0
start_time = None
for sample in exposition.read(path):
    labels = sample.label
    if labels.get("sandbox_id") == sandbox:
        kata += 1
        got = (labels.get("cri_uid"), labels.get("cri_name"), labels.get("cri_namespace"))
        assert got == (uid, name, namespace), f"{sample.text}: {got}"
    if labels.get("id") == f"/kata/{sandbox}":
        cadvisor += 1
        assert (labels.get("namespace"), labels.get("pod")) == (namespace, name), sample.text
        if sample.name == "container_start_time_seconds":
            start_time = sample.value
assert kata > 500 and cadvisor > 30, (kata, cadvisor)
assert start_time is not None and abs(time.time() - start_time) < 600, start_time
print(f"{name}: {kata} kata series and {cadvisor} cAdvisor series labelled {namespace}/{name} {uid}")
PY
}
cri_up_is() { [ "$(metric "$AGENT_PORT" kata_pulse_cri_up)" = "$1" ]; }
rounds_above() { [ "$(metric "$AGENT_PORT" kata_pulse_collection_rounds_total)" -gt "$1" ]; }
wait_for "metadata never reached /metrics" check_labels "$web" 6f1c2d3e-0000-4000-8000-00000000000a web-0 team-a
check_labels "$web" 6f1c2d3e-0000-4000-8000-00000000000a web-0 team-a
check_labels "$db" 6f1c2d3e-0000-4000-8000-00000000000b db-0 team-b
curl -fsS "http://127.0.0.1:$AGENT_PORT/sandboxes?format=json" | jq -e --arg id "$web" \
    '.[] | select(.id == $id) | .metadata | .runtime_handler == "kata" and .state == "ready" and .pending == false' \
    >/dev/null || fail "/sandboxes lacks the metadata"
cri_up_is 1 || fail "kata_pulse_cri_up is not 1"

echo "killing containerd"
kill -9 "$containerd_pid"
wait "$containerd_pid" 2>/dev/null || true
wait_for "the outage never showed in kata_pulse_cri_up" cri_up_is 0
rounds=$(metric "$AGENT_PORT" kata_pulse_collection_rounds_total)
wait_for "collection stopped during the outage" rounds_above "$rounds"
check_labels "$web" 6f1c2d3e-0000-4000-8000-00000000000a web-0 team-a
check_labels "$db" 6f1c2d3e-0000-4000-8000-00000000000b db-0 team-b
echo "agent serves the metadata it had while containerd is down"

echo "restarting containerd"
start_containerd
wait_for "containerd's restart was not noticed" cri_up_is 1
cache=$(cri run cache-0 team-c 6f1c2d3e-0000-4000-8000-00000000000c kata)
"$bin" simulate --root "$work/sbs" --sandboxes 1 --ids "$cache" >"$work/sim2.out" 2>"$work/sim2.err" &
pids+=($!)
wait_for "a pod started after the restart was not labelled" \
    check_labels "$cache" 6f1c2d3e-0000-4000-8000-00000000000c cache-0 team-c
check_labels "$cache" 6f1c2d3e-0000-4000-8000-00000000000c cache-0 team-c
reachable=$(grep -c '"CRI runtime reachable"' "$work/agent.log" || true)
[ "$reachable" -ge 2 ] || fail "expected the agent to log the runtime reachable twice, saw $reachable"
echo "== a real container's cAdvisor rows"
app=$(start_app_container "$web" web-0 team-a 6f1c2d3e-0000-4000-8000-00000000000a) ||
    fail "could not start the app container"
echo "container app: $app"
# check_container: the rows carry the container and the pod, and agree with what containerd itself reports.
check_container() {
    curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics" >"$work/metrics.txt"
    read -r cpu_ns working_set < <(cri stats "$app")
    python3 - "$work/metrics.txt" "$web" "$app" "$cpu_ns" "$working_set" <<'PY'
import sys
import exposition
path, sandbox, container, cpu_ns, working_set = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = {}
for sample in exposition.read(path):
    if sample.label.get("container") == "app":
        expected = {"container": "app", "id": f"/kata/{sandbox}/{container}", "image": "localhost/kata-pulse-e2e/app:1",
                    "name": container, "namespace": "team-a", "pod": "web-0"}
        got = {k: sample.label.get(k) for k in expected}
        assert got == expected, f"{sample.text}: {got}"
        rows[sample.name] = sample.value
cpu, memory = rows.get("container_cpu_usage_seconds_total"), rows.get("container_memory_working_set_bytes")
assert cpu is not None and memory is not None, f"no app rows: {sorted(rows)}"
# The agent's reading is at most an interval older than containerd's: CPU lower but close, memory close.
assert 0 < cpu <= cpu_ns / 1e9 + 1e-9 and cpu_ns / 1e9 - cpu < 1.0, (cpu, cpu_ns)
assert memory >= 40 * 2**20 and abs(memory - working_set) < 8 * 2**20, (memory, working_set)
assert "container_start_time_seconds" in rows and "container_last_seen" in rows, sorted(rows)
print(f"app: {cpu:.3f} s CPU (containerd: {cpu_ns / 1e9:.3f}), working set {memory / 2**20:.1f} MiB "
      f"(containerd: {working_set / 2**20:.1f}); {len(rows)} families")
PY
}
wait_for "the app container's rows never matched containerd's" check_container
check_container
echo "cri-containerd: ok"
