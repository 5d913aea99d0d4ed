#!/usr/bin/env bash
# End-to-end with Debian's prometheus-pushgateway: the agent PUTs its snapshot after every round (hostile and
# type-conflicting shims present); the Pushgateway accepts every push and serves the same series with the
# job/instance labels. A Pushgateway that is down, or that accepts and never answers, costs failed pushes
# (counted) but never delays the next collection round.
source "$(dirname "$0")/lib/common.bash"
# The Pushgateway, the agent pushing to it, a gateway that hangs, one that is down, the agents pushing there.
read -r PORT AGENT_PORT HUNG_PORT DOWN_PORT SLOW_AGENT_PORT < <(free_port 5)
mkdir -p "$work/sbs"
"$bin" simulate --root "$work/sbs" --sandboxes 4 --flavor mixed --faults inject:1,conflict:1 >/dev/null 2>&1 &
pids+=($!)
prometheus-pushgateway --web.listen-address="127.0.0.1:$PORT" >"$work/pushgateway.log" 2>&1 &
pids+=($!)
sleep 0.5
"$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 \
    --listen-address "127.0.0.1:$AGENT_PORT" --pushgateway-url "http://127.0.0.1:$PORT" \
    --pushgateway-instance test-node 2>"$work/agent.err" &
pids+=($!)

pushed() { curl -fsS "http://127.0.0.1:$PORT/metrics" | grep '^push_time_seconds{instance="test-node",job="kata-pulse"}'; }
poll pushed || fail "no push reached the Pushgateway: $(grep -i push "$work/agent.err" | tail -3)"
# Several pushes, so every sandbox is in.
several_pushes() { [ "$(metric "$AGENT_PORT" kata_pulse_pushgateway_pushes_total)" -ge 3 ]; }
poll several_pushes || fail "fewer than 3 pushes: $(grep -i push "$work/agent.err" | tail -3)"
curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics" >"$work/agent.prom"
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/pushgateway.prom"
[ "$(metric "$AGENT_PORT" kata_pulse_pushgateway_push_failures_total)" = 0 ] \
    || fail "pushes failed: $(grep -i push "$work/agent.err" | tail -3)"
[ "$(metric "$AGENT_PORT" kata_pulse_pushgateway_pushes_total)" -ge 2 ] || fail "fewer than 2 pushes"
python3 - "$work/agent.prom" "$work/pushgateway.prom" <<'PY'
import sys
import exposition
def parse(path):
    return {sample.key() for sample in exposition.read(path)}
# Families that describe the agent's HTTP API and its process at the time of a request are served, not pushed.
scrape_only = {"kata_monitor_scrape_count", "kata_monitor_scrape_failed_count"}
agent = {s for s in parse(sys.argv[1]) if s[0] not in scrape_only
         and not s[0].startswith(("kata_pulse_http_", "kata_monitor_process_"))}
pushed_all = parse(sys.argv[2])
ours = [s for s in pushed_all if ("job", "kata-pulse") in s[1] and ("instance", "test-node") in s[1]]
assert ours, "nothing with job=kata-pulse, instance=test-node on the Pushgateway"
pushed = {(name, tuple(p for p in labels if p[0] not in ("job", "instance"))) for name, labels in ours
          if name not in ("push_time_seconds", "push_failure_time_seconds")}
missing, extra = agent - pushed, pushed - agent
assert not missing and not extra, f"missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]}"
failure = [s for s in exposition.read(sys.argv[2])
           if s.name == "push_failure_time_seconds" and s.label.get("instance") == "test-node"]
assert failure and failure[0].value == 0, f"the Pushgateway recorded a failed push: {failure}"
print(f"the Pushgateway serves all {len(agent)} series with job/instance labels; no failed push")
PY

echo "== a Pushgateway that is down or hangs does not delay collection"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
time.sleep(120)  # accepts connections (in the kernel) and never answers
' "$HUNG_PORT" &
pids+=($!)
for target in "$DOWN_PORT:down" "$HUNG_PORT:hung"; do
    gateway=${target%%:*}
    api=$SLOW_AGENT_PORT
    "$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 \
        --listen-address "127.0.0.1:$api" --pushgateway-url "http://127.0.0.1:$gateway" \
        --pushgateway-timeout-ms 5000 2>"$work/slow.err" &
    slow=$!
    wait_http "http://127.0.0.1:$api/healthz" || fail "agent did not start: $(tail -3 "$work/slow.err")"
    first=$(metric "$api" kata_pulse_collection_rounds_total)
    sleep 4
    later=$(metric "$api" kata_pulse_collection_rounds_total)
    [ $((later - first)) -ge 3 ] || fail "${target#*:} Pushgateway: only $((later - first)) rounds in 4 s"
    if [ "${target#*:}" = down ]; then
        [ "$(metric "$api" kata_pulse_pushgateway_push_failures_total)" -ge 1 ] || fail "refused pushes not counted"
    else
        sleep 2  # the first push's 5 s deadline passes
        [ "$(metric "$api" kata_pulse_pushgateway_push_failures_total)" -ge 1 ] || fail "hung push not counted"
    fi
    echo "${target#*:} Pushgateway: $((later - first)) rounds in 4 s, failures counted"
    kill "$slow"; wait "$slow" 2>/dev/null || true
done
echo "pushgateway: ok"
