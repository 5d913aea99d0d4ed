#!/usr/bin/env bash
# End-to-end with systemd's real tools and a harness that plays systemd's side (Tests/e2e/systemd-harness.py):
# socket activation over TCP, a unix socket and two sockets (systemd-socket-activate), READY/STATUS/WATCHDOG/
# STOPPING notifications, and watchdog pings that stop when collection is wedged.
source "$(dirname "$0")/lib/common.bash"
mkdir -p "$work/sbs"
"$bin" simulate --root "$work/sbs" --sandboxes 2 >/dev/null 2>&1 &
pids+=($!)
agent=("$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1)
read -r tcp_port second_port notify_port wedged_port < <(free_port 4)

echo "== socket activation: TCP"
systemd-socket-activate -l "127.0.0.1:$tcp_port" "${agent[@]}" 2>"$work/sa1.err" &
pids+=($!)
wait_http "http://127.0.0.1:$tcp_port/healthz" || fail "nothing served on the passed TCP socket: $(tail -3 "$work/sa1.err")"
curl -fsS "http://127.0.0.1:$tcp_port/metrics" | grep '^kata_monitor_running_shim_count ' >/dev/null || fail "no /metrics"
grep -q 'listen="systemd sockets"' "$work/sa1.err" || fail "did not take the passed socket"

echo "== socket activation: unix socket and two sockets"
systemd-socket-activate -l "$work/api.sock" -l "127.0.0.1:$second_port" "${agent[@]}" 2>"$work/sa2.err" &
pids+=($!)
wait_http "http://127.0.0.1:$second_port/healthz" || fail "second passed socket not served"
wait_http --unix-socket "$work/api.sock" http://agent/healthz || fail "passed unix socket not served"
curl -fsS --unix-socket "$work/api.sock" http://agent/sandboxes | grep -q . || fail "no sandboxes over unix socket"

echo "== a passed descriptor that is not a listening socket is refused, naming it"
set +e
LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=bogus bash -c 'export LISTEN_PID=$$; exec "$@" 3</dev/null' _ "${agent[@]}" \
    >/dev/null 2>"$work/bad.err"
code=$?
set -e
[ "$code" != 0 ] && grep -q "descriptor 3 (bogus) is not a listening stream socket" "$work/bad.err" \
    || fail "bad descriptor: exit $code: $(cat "$work/bad.err")"

echo "== notifications and watchdog"
python3 Tests/e2e/systemd-harness.py --listen "127.0.0.1:$notify_port" --watchdog-usec 2000000 --seconds 5 -- \
    "${agent[@]}" >"$work/notify.jsonl" 2>"$work/harness.err" || fail "never ready: $(cat "$work/notify.jsonl")"
python3 - "$work/notify.jsonl" "$notify_port" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
pid = events[0]["pid"]
notes = [e for e in events if e["event"] == "notify"]
assert all(e["sender"] == pid for e in notes), "a notification came from another process"
ready = [e for e in notes if e["fields"].get("READY") == "1"]
assert ready and ready[0]["t"] < 3, f"READY=1 late or missing: {ready}"
assert f"serving on 127.0.0.1:{sys.argv[2]}" in ready[0]["fields"]["STATUS"], ready
statuses = [e["fields"]["STATUS"] for e in notes if "STATUS" in e["fields"] and "READY" not in e["fields"]]
assert any("2 sandboxes: 2 served, 0 failing" in s for s in statuses), statuses
pings = [e["t"] for e in notes if e["fields"].get("WATCHDOG") == "1"]
assert len(pings) >= 4, pings  # every second (half of 2 s) for 5 s
assert not any(e["event"] == "watchdog-timeout" for e in events)
stopping = [e for e in notes if e["fields"].get("STOPPING") == "1"]
exited = [e for e in events if e["event"] == "exited"]
assert stopping and exited and exited[0]["code"] == 0, (stopping, exited)
print(f"READY at {ready[0]['t']} s, {len(statuses)} STATUS, {len(pings)} WATCHDOG pings, STOPPING, exit 0")
PY

echo "== wedged collection: a hung shim with a deadline longer than the watchdog stops the pings"
mkdir -p "$work/wedged"
"$bin" simulate --root "$work/wedged" --sandboxes 1 --faults hang:1 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
python3 Tests/e2e/systemd-harness.py --listen "127.0.0.1:$wedged_port" --watchdog-usec 2000000 --seconds 12 -- \
    "$bin" --sandbox-root "$work/wedged" --runtime-endpoint none --metrics-interval-secs 1 --shim-timeout-ms 60000 \
    >"$work/wedged.jsonl" 2>"$work/wedged.err" || true
python3 - "$work/wedged.jsonl" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
timeouts = [e for e in events if e["event"] == "watchdog-timeout"]
exited = [e for e in events if e["event"] == "exited"]
assert timeouts, "the watchdog never fired: pings went on while collection was stuck"
assert exited and exited[0]["signal"] == 6, exited  # SIGABRT, as systemd's WatchdogSignal
print(f"pings stopped; watchdog fired at {timeouts[0]['t']} s; killed by SIGABRT")
PY
echo "systemd-integration: ok"
