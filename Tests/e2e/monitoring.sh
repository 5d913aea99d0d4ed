#!/usr/bin/env bash
# End-to-end for the monitoring mixin (monitoring/):
#  1. The committed files are what scripts/generate-monitoring.sh renders from monitoring/*.libsonnet, and
#     those are as jsonnetfmt formats them.
#  2. promtool (Debian's) accepts the rule files, and their unit tests (a test for every alert) pass.
#  3. The dashboards: unique uids; the datasource, job and instance variables; every panel on the chosen data
#     source; every query restricted by job and instance.
#  4. A real Prometheus loads the rules (each `for:` shortened to 5 s; the expressions as shipped) and scrapes
#     three agents and a dead target: `healthy` (Go and runtime-rs shims, nothing wrong), `faulty` (shims that
#     hang, drip, answer 500, flood, conflict and repeat series, a runtime-rs QEMU sandbox it must skip, no CRI,
#     a textfile directory that disappears, an absent Pushgateway and remote-write receiver, rounds longer than
#     the interval) and `queue-full` (a 64 KiB remote-write queue, no receiver). Exactly the alerts of the
#     injected faults fire, for the right instances and sandboxes; nothing else is pending or firing.
#  5. Every query of every dashboard panel, with the variables at All, returns data, and so do the job,
#     instance and sandbox variables' queries.
source "$(dirname "$0")/lib/common.bash"
# A python3 with PyYAML: the one on PATH, else Debian's (python3-yaml).
python=python3
"$python" -c 'import yaml' 2>/dev/null || python=/usr/bin/python3

echo "== rendered files"
jsonnetfmt --test monitoring/*.libsonnet || fail "monitoring/*.libsonnet not formatted: jsonnetfmt -i monitoring/*.libsonnet"
scripts/generate-monitoring.sh "$work/rendered"
for file in monitoring/kata-pulse-alerts.yaml monitoring/kata-pulse-rules.yaml monitoring/dashboards \
    deploy/kubernetes/prometheus-rules/prometheusrule.yaml; do
    diff -r "$work/rendered/$file" "$file" >&2 ||
        fail "$file is not what scripts/generate-monitoring.sh renders: run it and commit the result"
done
echo "monitoring/ and the PrometheusRule are rendered from the mixin as committed"
# The README's example of importing the mixin with another selector: every alert then uses it.
mkdir -p "$work/jpath"
ln -s "$PWD" "$work/jpath/kata-pulse"
python3 -c 'import re, sys; print(re.findall(r"```jsonnet\n(.*?)```", open("README.md").read(), re.S)[0])' \
    >"$work/jpath/readme-example.jsonnet"
jsonnet -J "$work/jpath" "$work/jpath/readme-example.jsonnet" | python3 -c '
import json, sys
rendered = json.load(sys.stdin)
rules = [r for g in rendered["kata-pulse-alerts.json"]["groups"] for r in g["rules"]]
assert rules and all("job=~\"kata-pulse|node\"" in r["expr"] for r in rules), "the selector is not in every alert"
print(f"the README example renders {len(rules)} alerts with its selector")'

echo "== promtool"
promtool check rules monitoring/kata-pulse-alerts.yaml monitoring/kata-pulse-rules.yaml
promtool test rules monitoring/tests/kata-pulse.test.yaml
"$python" - monitoring/kata-pulse-alerts.yaml monitoring/tests/kata-pulse.test.yaml <<'PY'
import sys, yaml
alerts = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]}
tests = yaml.safe_load(open(sys.argv[2]))["tests"]
cases = [case for test in tests for case in test.get("alert_rule_test", [])]
fired = {case["alertname"] for case in cases if case.get("exp_alerts")}
silent = {case["alertname"] for case in cases if not case.get("exp_alerts")}
assert alerts <= fired, f"alerts no test sees firing: {sorted(alerts - fired)}"
assert alerts <= silent, f"alerts no test sees silent: {sorted(alerts - silent)}"
print(f"{len(alerts)} alerts, each tested firing and silent")
PY

echo "== dashboards"
python3 - monitoring/dashboards/*.json <<'PY'
import json, sys
uids = set()
for path in sys.argv[1:]:
    board = json.load(open(path))
    assert board["uid"] not in uids, path
    uids.add(board["uid"])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus", path
    assert {"job", "instance"} <= variables.keys(), (path, list(variables))
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), path
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", (path, panel["title"])
        assert panel["targets"], (path, panel["title"])
        for target in panel["targets"]:
            expr = target["expr"]
            assert 'job=~"$job"' in expr and 'instance=~"$instance"' in expr, (path, panel["title"], expr)
            assert target["datasource"]["uid"] == "${datasource}", (path, panel["title"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, (path, panel["title"], grid)
    print(f"{path}: {len(panels)} panels, {sum(len(p['targets']) for p in panels)} queries, variables {sorted(variables)}")
PY

echo "== live: Prometheus, three agents, faults"
read -r HEALTHY_PORT FAULTY_PORT QUEUE_PORT DEAD_PORT PROM_PORT PUSH_PORT RW_PORT QUEUE_RW_PORT < <(free_port 8)
"$bin" simulate --root "$work/healthy" --sandboxes 4 --flavor mixed >"$work/healthy-sim.out" 2>"$work/healthy-sim.err" &
pids+=($!)
# faulty: six faulty Go shims and two healthy ones, and one runtime-rs QEMU sandbox (another seed) never asked.
"$bin" simulate --root "$work/faulty" --sandboxes 8 --flavor go \
    --faults hang:1,slow:1,status500:1,bomb:1,conflict:1,duplicate:1 >"$work/faulty-sim.out" 2>"$work/faulty-sim.err" &
pids+=($!)
"$bin" simulate --root "$work/faulty" --sandboxes 1 --flavor rust --hypervisors qemu --seed 77 \
    >"$work/skipped-sim.out" 2>"$work/skipped-sim.err" &
pids+=($!)
simulators_started() {
    [ "$(wc -l <"$work/healthy-sim.out")" -ge 4 ] && [ "$(wc -l <"$work/faulty-sim.out")" -ge 8 ] &&
        [ "$(wc -l <"$work/skipped-sim.out")" -ge 1 ]
}
wait_for "simulators did not start" simulators_started

"$bin" --sandbox-root "$work/healthy" --listen-address "127.0.0.1:$HEALTHY_PORT" --metrics-interval-secs 1 \
    --runtime-endpoint none 2>"$work/healthy.err" &
pids+=($!)
# Rounds of 2.5 s (the shim deadline, which the hanging and dripping shims reach) every 2 s: slower than the
# interval, and still well inside the 3 intervals after which collection counts as stalled.
mkdir -p "$work/textfile"
"$bin" --sandbox-root "$work/faulty" --listen-address "127.0.0.1:$FAULTY_PORT" --metrics-interval-secs 2 \
    --shim-timeout-ms 2500 --runtime-endpoint "unix://$work/no-cri.sock" --cri-timeout-ms 200 \
    --textfile-dir "$work/textfile" --pushgateway-url "http://127.0.0.1:$PUSH_PORT" --pushgateway-timeout-ms 500 \
    --remote-write-url "http://127.0.0.1:$RW_PORT/api/v1/write" --remote-write-queue-dir "$work/faulty-queue" \
    --remote-write-max-samples-per-request 500 --remote-write-timeout-ms 500 2>"$work/faulty.err" &
pids+=($!)
"$bin" --sandbox-root "$work/healthy" --listen-address "127.0.0.1:$QUEUE_PORT" --metrics-interval-secs 1 \
    --runtime-endpoint none --remote-write-url "http://127.0.0.1:$QUEUE_RW_PORT/api/v1/write" \
    --remote-write-queue-dir "$work/small-queue" --remote-write-queue-max-bytes 65536 \
    --remote-write-max-samples-per-request 500 --remote-write-timeout-ms 500 2>"$work/queue.err" &
pids+=($!)
for port in "$HEALTHY_PORT" "$FAULTY_PORT" "$QUEUE_PORT"; do
    wait_http "http://127.0.0.1:$port/healthz" || fail "agent on $port did not start: $(tail -3 "$work"/*.err)"
done
# The textfile is written once, then its directory disappears: writes fail and the snapshot goes stale.
wait_for "no textfile snapshot written" test -s "$work/textfile/kata-pulse.prom"
rm -rf "$work/textfile"

"$python" - monitoring/kata-pulse-alerts.yaml "$work/alerts.yaml" <<'PY'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
for group in rules["groups"]:
    for rule in group["rules"]:
        if "for" in rule:
            rule["for"] = "5s"
yaml.safe_dump(rules, open(sys.argv[2], "w"), sort_keys=False)
PY
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $work/alerts.yaml
  - $PWD/monitoring/kata-pulse-rules.yaml
scrape_configs:
  - job_name: kata-pulse
    static_configs:
      - targets: ["127.0.0.1:$HEALTHY_PORT"]
        labels: {agent: healthy}
      - targets: ["127.0.0.1:$FAULTY_PORT"]
        labels: {agent: faulty}
      - targets: ["127.0.0.1:$QUEUE_PORT"]
        labels: {agent: queue-full}
      - targets: ["127.0.0.1:$DEAD_PORT"]
        labels: {agent: dead}
YAML
promtool check config "$work/prometheus.yml" >/dev/null
start_prometheus "$PROM_PORT"

# Until the first scrapes, no target is known and KataPulseAbsent is rightly pending: start from there.
all_scraped() {
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=count(up{job="kata-pulse"})' |
        jq -e '.data.result[0].value[1] == "4"' >/dev/null
}
wait_for "prometheus has not scraped the four targets" all_scraped
WAIT_SECONDS=10 wait_for "KataPulseAbsent still pending with every target scraped" \
    python3 -c 'import json, sys, urllib.request; sys.exit(any(a["labels"]["alertname"] == "KataPulseAbsent" for a in json.load(urllib.request.urlopen(sys.argv[1]))["data"]["alerts"]))' \
    "http://127.0.0.1:$PROM_PORT/api/v1/alerts"

# The sandboxes whose collection fails: the faulty simulator's hang, slow, status500 and bomb lines.
failing=$(awk '$3 ~ /^(hang|slow|status500|bomb)$/ {print $1}' "$work/faulty-sim.out" | sort | paste -sd, -)
[ "$(tr ',' '\n' <<<"$failing" | wc -l)" -eq 4 ] || fail "expected four failing sandboxes in $(cat "$work/faulty-sim.out")"

# Every expected alert firing, for exactly the expected instances (and sandboxes, reasons), and nothing
# else pending or firing.
cat >"$work/check-alerts.py" <<'PY'
import json, sys, urllib.request

api, failing, final = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3] == "final"
alerts = json.load(urllib.request.urlopen(f"{api}/alerts"))["data"]["alerts"]

def key(alert):
    labels = alert["labels"]
    return (labels["alertname"], labels.get("agent", ""), labels.get("sandbox_id") or labels.get("reason") or "")

expected = {("KataPulseDown", "dead", "")}
expected |= {("KataPulseSandboxCollectionFailing", "faulty", sandbox) for sandbox in failing}
expected |= {(name, "faulty", "") for name in (
    "KataPulseCollectionSlow", "KataPulseNodeSandboxesFailing", "KataPulseTypeConflicts", "KataPulseSandboxesSkipped",
    "KataPulseCRIUnreachable", "KataPulseTextfileWritesFailing", "KataPulseTextfileStale",
    "KataPulsePushgatewayPushesFailing", "KataPulseRemoteWriteNotDelivering", "KataPulseRemoteWriteQueueGrowing")}
expected |= {("KataPulseSandboxOverLimits", "faulty", "limit"), ("KataPulseSamplesDropped", "faulty", "duplicate_series"),
             ("KataPulseSamplesDropped", "faulty", "reserved_name")}
expected |= {("KataPulseRemoteWriteNotDelivering", "queue-full", ""),
             ("KataPulseRemoteWriteSamplesDropped", "queue-full", "queue_full")}

firing = {key(a) for a in alerts if a["state"] == "firing"}
active = {key(a) for a in alerts}
unexpected = sorted(active - expected)
missing = sorted(expected - firing)
if unexpected:
    print(f"unexpected alerts: {unexpected}", file=sys.stderr)
    sys.exit(2)
if missing:
    if final:
        print(f"not firing: {missing}", file=sys.stderr)
    sys.exit(1)
print(f"{len(firing)} alerts firing, each expected; none other pending or firing")
PY
alerts_as_expected() { python3 "$work/check-alerts.py" "http://127.0.0.1:$PROM_PORT/api/v1" "$failing" poll; }
# rc 2 (an unexpected alert) ends the wait at once.
deadline=$((SECONDS + 120))
while :; do
    rc=0
    alerts_as_expected >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && break
    [ "$rc" -eq 2 ] && break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
done
python3 "$work/check-alerts.py" "http://127.0.0.1:$PROM_PORT/api/v1" "$failing" final ||
    fail "alerts differ from the injected faults' (agent logs: $(tail -2 "$work/faulty.err"))"
# Still so a few evaluations later (the healthy agent has had time to misfire).
sleep 5
python3 "$work/check-alerts.py" "http://127.0.0.1:$PROM_PORT/api/v1" "$failing" final ||
    fail "alerts changed after they settled"

echo "== every dashboard query returns data"
python3 - "http://127.0.0.1:$PROM_PORT/api/v1" monitoring/dashboards/*.json <<'PY'
import json, math, sys, urllib.parse, urllib.request

api, paths = sys.argv[1], sys.argv[2:]
values = {"$job": "kata-pulse", "$instance": ".+", "$namespace": ".*", "$pod": ".*", "$sandbox": ".+",
          "$__rate_interval": "1m"}

def substitute(text):
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(name, values[name])
    return text

def query(expr):
    url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})
    return json.load(urllib.request.urlopen(url))["data"]["result"]

failures, count = [], 0
for path in paths:
    board = json.load(open(path))
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        # label_values(SELECTOR, LABEL); without CRI, pods have no namespace or name to offer.
        inner = variable["query"]["query"][len("label_values("):-1]
        selector, label = (part.strip() for part in inner.rsplit(",", 1))
        url = f"{api}/label/{label}/values?" + urllib.parse.urlencode({"match[]": substitute(selector)})
        found = json.load(urllib.request.urlopen(url))["data"]
        if not found and variable["name"] not in ("namespace", "pod"):
            failures.append(f"{path}: variable {variable['name']}: no values")
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            count += 1
            result = query(substitute(target["expr"]))
            finite = [s for s in result if math.isfinite(float(s["value"][1]))]
            if not finite:
                failures.append(f"{path}: {panel['title']}: {target['expr']} -> {len(result)} series, none finite")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"{count} panel queries over {len(paths)} dashboards: every one returns data")
PY

# Some panels drawn from Prometheus' answers into a PNG (the README's docs/monitoring-preview.png, where no
# Grafana runs): with KP_MONITORING_PREVIEW=FILE.png after KP_MONITORING_PREVIEW_SECONDS (default 420: the
# recording rules' 5-minute rates need that much history to be flat) more, over the last 3 minutes;
# otherwise at once into the work directory, so that the drawing itself is tested.
preview=${KP_MONITORING_PREVIEW:-$work/preview.png}
if [ -n "${KP_MONITORING_PREVIEW:-}" ]; then sleep "${KP_MONITORING_PREVIEW_SECONDS:-420}"; fi
/usr/bin/python3 Tests/e2e/lib/panel-preview.py "http://127.0.0.1:$PROM_PORT/api/v1" "$preview" 3 \
    "monitoring/dashboards/kata-pulse-fleet.json:Sandboxes per node" \
    "monitoring/dashboards/kata-pulse-fleet.json:Collection round duration" \
    "monitoring/dashboards/kata-pulse-fleet.json:Host memory of Kata processes and guest use, per node" \
    "monitoring/dashboards/kata-pulse-fleet.json:Host CPU of Kata processes and guest use, per node" \
    "monitoring/dashboards/kata-pulse-node.json:CPU" \
    "monitoring/dashboards/kata-pulse-node.json:Memory overhead"
[ "$(head -c 8 "$preview" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "no PNG drawn at $preview"
echo "preview: $preview ($(du -k "$preview" | cut -f1) KiB)"
echo "monitoring: ok"
