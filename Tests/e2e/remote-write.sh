#!/usr/bin/env bash
# End-to-end with the two remote-write receivers Debian ships: Prometheus 2.42
# (--web.enable-remote-write-receiver, over TLS requiring a client certificate and basic authentication, from
# its --web.config.file) and VictoriaMetrics 1.79. The agent sends to both, each from its own durable queue:
#  1. every series the agent publishes arrives in both stores, each sandbox's samples at the time its shim
#     was read (the agent's own kata_pulse_sandbox_last_success_timestamp_seconds, in the store too);
#  2. a removed sandbox's series end in both stores at once (staleness markers), not 5 minutes later;
#  3. VictoriaMetrics is stopped for more than 5 rounds, the agent is SIGKILLed during the outage and started
#     again, VictoriaMetrics comes back: it then holds every round that Prometheus (up throughout) holds, each
#     round once;
#  4. a receiver that answers 400 has each request dropped, counted, and the others are not held back;
#  5. a second agent whose receiver never answers, with a 64 KiB queue: the oldest requests are dropped,
#     counted, the newest kept, and they are delivered once a receiver listens there.
source "$(dirname "$0")/lib/common.bash"
read -r PROM_PORT VM_PORT AGENT_PORT REFUSING_PORT SMALL_AGENT_PORT ABSENT_PORT < <(free_port 6)
mkdir -p "$work/sbs" "$work/prometheus" "$work/vm"
bash Tests/e2e/lib/make-pki.sh "$work/pki"
printf 'secret\n' >"$work/password"
# bcrypt of "secret"; the agent must show a certificate of the test CA.
cat >"$work/web.yml" <<EOF
tls_server_config:
  cert_file: $work/pki/server.pem
  key_file: $work/pki/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $work/pki/ca.pem
basic_auth_users:
  kata-pulse: \$2b\$04\$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNxa
EOF
# What the checks need to reach Prometheus: its CA, a client certificate and the credentials.
export PROM_PORT PKI="$work/pki"
prom_curl() { curl --cacert "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key" -u kata-pulse:secret "$@"; }
"$bin" simulate --root "$work/sbs" --sandboxes 4 --flavor mixed >/dev/null 2>&1 &
pids+=($!)
printf 'global: {}\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-remote-write-receiver --web.config.file="$work/web.yml" \
    >"$work/prometheus.log" 2>&1 &
pids+=($!)
start_vm() {
    victoria-metrics -storageDataPath="$work/vm" -httpListenAddr="127.0.0.1:$VM_PORT" -search.latencyOffset=0s \
        >>"$work/vm.log" 2>&1 &
    vm_pid=$!
    pids+=("$vm_pid")
}
start_vm
# A receiver that refuses every request as malformed.
python3 -c '
import http.server, sys
class Refuse(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(400); self.send_header("Content-Length", "9"); self.end_headers(); self.wfile.write(b"bad input")
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Refuse).serve_forever()
' "$REFUSING_PORT" &
pids+=($!)
poll prom_curl -fsS "https://127.0.0.1:$PROM_PORT/-/ready" || fail "prometheus did not start: $(tail -3 "$work/prometheus.log")"
wait_http "http://127.0.0.1:$VM_PORT/health" || fail "victoria-metrics did not start: $(tail -3 "$work/vm.log")"
start_agent() {
    "$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 \
        --listen-address "127.0.0.1:$AGENT_PORT" --remote-write-queue-dir "$work/queue" \
        --remote-write-url "https://127.0.0.1:$PROM_PORT/api/v1/write" --remote-write-tls-ca-file "$PKI/ca.pem" \
        --remote-write-tls-cert-file "$PKI/client.pem" --remote-write-tls-key-file "$PKI/client.key" \
        --remote-write-basic-auth-username kata-pulse --remote-write-basic-auth-password-file "$work/password" \
        --remote-write-url "http://127.0.0.1:$VM_PORT/api/v1/write" \
        --remote-write-url "http://127.0.0.1:$REFUSING_PORT/write" \
        --remote-write-external-label instance=test-node 2>>"$work/agent.err" &
    agent_pid=$!
    pids+=("$agent_pid")
    wait_http "http://127.0.0.1:$AGENT_PORT/metrics" || fail "the agent did not start: $(tail -3 "$work/agent.err")"
}
start_agent

# check.py MODE ARGS: the assertions, against the stores' HTTP APIs.
cat >"$work/check.py" <<'PY'
import base64, json, os, ssl, sys, time, urllib.parse, urllib.request
import exposition

# Prometheus answers over TLS only, to a client certificate of the test CA with the credentials.
pki = os.environ["PKI"]
tls = ssl.create_default_context(cafile=f"{pki}/ca.pem")
tls.load_cert_chain(f"{pki}/client.pem", f"{pki}/client.key")

def base(port):
    return f"https://127.0.0.1:{port}" if port == os.environ["PROM_PORT"] else f"http://127.0.0.1:{port}"

def get(url):
    request = urllib.request.Request(url)
    if url.startswith("https:"):
        request.add_header("Authorization", "Basic " + base64.b64encode(b"kata-pulse:secret").decode())
    with urllib.request.urlopen(request, timeout=10, context=tls if url.startswith("https:") else None) as response:
        return response.read().decode()

def query(port, promql, at=None):
    params = {"query": promql}
    if at is not None:
        params["time"] = str(at)
    reply = json.loads(get(f"{base(port)}/api/v1/query?" + urllib.parse.urlencode(params)))
    assert reply["status"] == "success", reply
    return reply["data"]["result"]

def store_series(port):
    reply = json.loads(get(f"{base(port)}/api/v1/series?" + urllib.parse.urlencode(
        {"match[]": '{job="kata-pulse",instance="test-node"}', "start": str(time.time() - 600)})))
    return {(s["__name__"], tuple(sorted((k, v) for k, v in s.items() if k not in ("__name__", "job", "instance"))))
            for s in reply["data"]}

mode = sys.argv[1]
if mode == "series":
    agent_port, ports = sys.argv[2], sys.argv[3:]
    scrape_only = {"kata_monitor_scrape_count", "kata_monitor_scrape_failed_count"}
    text = get(f"http://127.0.0.1:{agent_port}/metrics")
    open("/dev/null", "w").write(text)
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".prom", delete=False) as f:
        f.write(text)
    agent = {s.key() for s in exposition.read(f.name)
             if s.name not in scrape_only and not s.name.startswith(("kata_pulse_http_", "kata_monitor_process_"))}
    agent = {(name, tuple(sorted(p for p in labels if p[1] != ""))) for name, labels in agent}
    for port in ports:
        missing = agent - store_series(port)
        assert not missing, f"{len(missing)} of {len(agent)} series missing in :{port}, e.g. {sorted(missing)[:3]}"
    print(f"all {len(agent)} published series are in both stores")
elif mode == "timestamps":
    port, sandbox = sys.argv[2], sys.argv[3]
    # Raw samples over the last minute: the shim series' timestamps are the agent's last-success times.
    reads = query(port, f'kata_pulse_sandbox_last_success_timestamp_seconds{{sandbox_id="{sandbox}"}}[1m]')
    shim = query(port, f'kata_shim_threads{{sandbox_id="{sandbox}"}}[1m]')
    assert reads and shim, (reads, shim)
    read_times = {round(float(v) * 1000) for _, v in reads[0]["values"]}
    sample_times = {round(float(t) * 1000) for t, _ in shim[0]["values"]}
    # The newest read may not have reached the store's query yet; every sample is at a read time.
    assert sample_times <= read_times and len(sample_times) >= 3, (sorted(sample_times)[-3:], sorted(read_times)[-3:])
    print(f":{port}: {len(sample_times)} samples of the sandbox, each at the time its shim was read")
elif mode == "stale":
    port, sandbox = sys.argv[2], sys.argv[3]
    result = query(port, f'count(kata_shim_threads{{sandbox_id="{sandbox}"}})')
    assert not result, f"the removed sandbox's series still answer: {result}"
elif mode == "rounds":
    prom, vm = sys.argv[2], sys.argv[3]
    series = 'kata_pulse_collection_rounds_total{job="kata-pulse",instance="test-node"}'
    prom_times = [round(float(t) * 1000) for t, _ in query(prom, series + "[10m]")[0]["values"]]
    lines = get(f"http://127.0.0.1:{vm}/api/v1/export?" + urllib.parse.urlencode({"match[]": series})).splitlines()
    vm_times = sorted(t for line in lines for t in json.loads(line)["timestamps"])
    assert len(vm_times) == len(set(vm_times)), f"{len(vm_times) - len(set(vm_times))} rounds twice in VictoriaMetrics"
    missing = set(prom_times) - set(vm_times)
    assert not missing, f"{len(missing)} of {len(prom_times)} rounds missing in VictoriaMetrics: {sorted(missing)[:5]}"
    print(f"VictoriaMetrics holds all {len(prom_times)} rounds Prometheus holds, each once")
PY
check() { python3 "$work/check.py" "$@"; }

echo "== every series arrives, at its shim's read time"
WAIT_SECONDS=60 poll check series "$AGENT_PORT" "$PROM_PORT" "$VM_PORT" \
    || check series "$AGENT_PORT" "$PROM_PORT" "$VM_PORT" || fail "series missing"
check series "$AGENT_PORT" "$PROM_PORT" "$VM_PORT"
sandbox=$(find "$work/sbs" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -1)
poll check timestamps "$PROM_PORT" "$sandbox" || check timestamps "$PROM_PORT" "$sandbox" || fail "timestamps"
poll check timestamps "$VM_PORT" "$sandbox" || check timestamps "$VM_PORT" "$sandbox" || fail "timestamps"
[ "$(metric "$AGENT_PORT" kata_pulse_remote_write_rounds_skipped_total)" = 0 ] || fail "rounds skipped"
echo "each sandbox's samples are at the times its shim was read, in both stores"
refused() {
    curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics?filter_family=kata_pulse_remote_write_failed_samples_total" \
        | awk -v url="http://127.0.0.1:$REFUSING_PORT/write" 'index($0, "url=\"" url "\"") && $2 > 0 {found = 1} END {exit !found}'
}
poll refused || fail "the refused requests are not counted as failed"
left=$(curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics?filter_family=kata_pulse_remote_write_queue_requests" \
    | awk -v url="http://127.0.0.1:$REFUSING_PORT/write" 'index($0, "url=\"" url "\"") {print $2}')
[ "${left:-1}" -le 1 ] || fail "refused requests stay queued ($left)"
echo "a receiver answering 400 has its requests dropped and counted; the other receivers have every series"

echo "== a removed sandbox's series end at once"
rm -rf "${work:?}/sbs/$sandbox"
for port in "$PROM_PORT" "$VM_PORT"; do
    WAIT_SECONDS=15 poll check stale "$port" "$sandbox" || check stale "$port" "$sandbox" || fail "not stale in :$port"
done
echo "the removed sandbox's series ended in both stores at once"

echo "== VictoriaMetrics down for over 5 rounds, the agent SIGKILLed and restarted meanwhile"
kill "$vm_pid"
poll process_gone "$vm_pid" || fail "victoria-metrics did not stop"
sleep 4
kill -9 "$agent_pid"
poll process_gone "$agent_pid" || fail "the agent did not die"
queued=$(find "$work/queue" -name '*.batch' | wc -l)
start_agent
sleep 3
start_vm
wait_http "http://127.0.0.1:$VM_PORT/health" || fail "victoria-metrics did not come back"
drained() { [ "$(curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics?filter_family=kata_pulse_remote_write_queue_requests" \
    | awk '!/^#/ {sum += $2} END {print sum + 0}')" = 0 ]; }
WAIT_SECONDS=60 poll drained || fail "the queues did not drain: $(tail -3 "$work/agent.err")"
# The store's search sees new rows within a second or so; poll for the complete set.
WAIT_SECONDS=20 poll check rounds "$PROM_PORT" "$VM_PORT" || check rounds "$PROM_PORT" "$VM_PORT" || fail "rounds lost"
echo "($queued requests were in the queues when the agent was killed)"
dropped=$(curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics?filter_family=kata_pulse_remote_write_dropped_samples_total" \
    | awk '!/^#/ {sum += $2} END {print sum + 0}')
[ "$dropped" = 0 ] || fail "$dropped samples dropped"
echo "every round arrived once after the outage, none dropped"

echo "== a full queue drops the oldest requests, counted"
"$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 \
    --listen-address "127.0.0.1:$SMALL_AGENT_PORT" --remote-write-queue-dir "$work/small-queue" \
    --remote-write-url "http://127.0.0.1:$ABSENT_PORT/write" --remote-write-queue-max-bytes 65536 \
    --remote-write-max-samples-per-request 500 2>>"$work/small-agent.err" &
pids+=($!)
small_metric() {
    curl -fsS "http://127.0.0.1:$SMALL_AGENT_PORT/metrics?filter_family=$1" | awk -v want="$2" '!/^#/ && index($0, want) {sum += $2} END {print sum + 0}'
}
full() { [ "$(small_metric kata_pulse_remote_write_dropped_samples_total 'reason="queue_full"')" -gt 0 ]; }
WAIT_SECONDS=60 poll full || fail "no request dropped from the full queue: $(tail -3 "$work/small-agent.err")"
bytes=$(small_metric kata_pulse_remote_write_queue_bytes "")
[ "$bytes" -le 65536 ] || fail "the queue holds $bytes bytes, over its 65536"
# The files left are the newest: a run of sequence numbers ending at the latest round's, without a gap.
mapfile -t held < <(find "$work/small-queue" -name '*.batch' -printf '%f\n' | sed 's/\.batch$//' | sort -n)
first=$((10#${held[0]})) last=$((10#${held[-1]}))
[ "$first" -gt 1 ] && [ "${#held[@]}" -gt 3 ] && [ $((last - first + 1)) = "${#held[@]}" ] || fail "not the newest kept: ${held[*]}"
echo "the 64 KiB queue keeps requests $first to $last ($bytes bytes); the older ones were dropped and counted"
python3 -c '
import http.server, sys
class Accept(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Accept).serve_forever()
' "$ABSENT_PORT" &
pids+=($!)
small_drained() { [ "$(small_metric kata_pulse_remote_write_queue_requests "")" = 0 ]; }
WAIT_SECONDS=30 poll small_drained || fail "the kept requests were not delivered: $(tail -3 "$work/small-agent.err")"
echo "and were delivered once a receiver listened"
echo "remote write: ok"
