#!/usr/bin/env bash
# End-to-end: the README's first command (`swift run kata-pulse demo`; run here as `$bin demo`, the program
# swift run builds and starts) serves a simulated node whose /metrics passes `promtool check metrics`
# parsing, has unique label names on every line and unique series, gzips to the same body, and shuts down
# cleanly on SIGTERM within a second. Also checks that bad flags and bad environment values exit 2 naming
# the flag.
source "$(dirname "$0")/lib/common.bash"
PORT=$(free_port)

echo "== usage errors exit 2 and name the flag"
set +e
"$bin" --metrics-interval-secs abc >"$work/out" 2>&1; code=$?
set -e
[ "$code" = 2 ] || fail "bad --metrics-interval-secs exited $code"
grep -q -- "--metrics-interval-secs" "$work/out" || fail "message does not name the flag: $(cat "$work/out")"
set +e
KATA_PULSE_LISTEN=nonsense "$bin" >"$work/out" 2>&1; code=$?
"$bin" --no-such-flag >/dev/null 2>&1; code2=$?
set -e
[ "$code" = 2 ] && grep -q KATA_PULSE_LISTEN "$work/out" || fail "bad KATA_PULSE_LISTEN: exit $code: $(cat "$work/out")"
[ "$code2" = 2 ] || fail "unknown flag exited $code2"
help=$("$bin" --help)  # captured first: grep -q closing the pipe early would fail the pipeline
grep -q "KATA_PULSE_METRICS_INTERVAL" <<<"$help" || fail "--help does not list env vars"
version=$("$bin" --version)
grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$version" || fail "--version"

echo "== demo with hostile sandboxes"
"$bin" demo --sandboxes 6 --faults inject:1,conflict:1,garbage:1 \
    --listen-address "127.0.0.1:$PORT" --metrics-interval-secs 2 >"$work/demo.out" 2>"$work/demo.err" &
pid=$!
pids+=("$pid")
# Waits for a first round over the six (none pending); what is checked is that all six are listed.
collected() {
    curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -e 'length == 6 and all(.status != "pending")'
}
poll collected || true
curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -e 'length == 6' >/dev/null || fail "demo never listed 6 sandboxes"
grep -q "Open http://127.0.0.1:$PORT/" "$work/demo.out" || fail "demo did not print its URL"

curl -fsS "http://127.0.0.1:$PORT/metrics" -o "$work/metrics.prom"
lines=$(wc -l <"$work/metrics.prom")
echo "metrics: $lines lines"
set +e
promtool check metrics <"$work/metrics.prom" >"$work/lint.txt" 2>&1; code=$?
set -e
# 0: clean; 3: lint findings only (names the shims already emit); 1: a parse error.
[ "$code" = 0 ] || [ "$code" = 3 ] || fail "promtool could not parse /metrics (exit $code): $(head -5 "$work/lint.txt")"
echo "promtool lint findings (exit $code): $(wc -l <"$work/lint.txt") lines"
sed -e 's/^/  /' "$work/lint.txt" | cut -c1-160 | sort | uniq -c | sort -rn | head -20

python3 - "$work/metrics.prom" <<'PY'
import sys
import exposition
seen = set()
for sample in exposition.read(sys.argv[1]):
    names = [n for n, _ in sample.labels]
    assert len(names) == len(set(names)), f"line {sample.line}: repeated label name: {sample.text!r}"
    assert not any(n.startswith("__") for n in names), f"line {sample.line}: reserved label: {sample.text!r}"
    key = sample.key()
    assert key not in seen, f"line {sample.line}: duplicate series: {sample.text!r}"
    seen.add(key)
print(f"{len(seen)} series, label names unique per line, no duplicate series")
PY

# The same snapshot gzipped and plain: only the scrape counter and the process's own readings may differ. A round can swap the
# snapshot between two requests, so try a few times (5: a second of polling).
same_body() {
    local own='^kata_monitor_(scrape_count|process_[a-z_]+) '
    curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -Ev "$own" >"$work/plain.prom"
    curl -fsS --compressed "http://127.0.0.1:$PORT/metrics" | grep -Ev "$own" >"$work/gz.prom"
    cmp -s "$work/plain.prom" "$work/gz.prom"
}
WAIT_SECONDS=1 wait_for "gzip body differs from plain body" same_body

echo "== SIGTERM shuts down within a second"
start=$(date +%s%N)
kill -TERM "$pid"
set +e
wait "$pid"; code=$?
set -e
pid=
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "exit $code after ${elapsed_ms} ms"
[ "$code" = 0 ] || fail "demo exited $code on SIGTERM: $(tail -5 "$work/demo.err")"
[ "$elapsed_ms" -lt 1500 ] || fail "shutdown took ${elapsed_ms} ms"
echo "== the README's runtime-rs demo: QEMU shims are never asked (they would abort), Dragonball ones are"
PORT=$(free_port)
"$bin" demo --flavor rust --hypervisors qemu,dragonball --listen-address "127.0.0.1:$PORT" --metrics-interval-secs 1 \
    >"$work/rs.out" 2>"$work/rs.err" &
pid=$!
pids+=("$pid")
statuses() { curl -fsS "http://127.0.0.1:$PORT/sandboxes?format=json" | jq -c '[.[] | .status] | sort'; }
two_kinds() { [ "$(statuses)" = '["skipped","skipped","up"]' ]; }
wait_for "statuses are not two skipped and one up: $(statuses 2>&1)" two_kinds
# Rounds go by; a shim that had been asked would have aborted and its sandbox would be failing.
rounds() { curl -fsS "http://127.0.0.1:$PORT/metrics" | sed -n 's/^kata_pulse_collection_rounds_total //p'; }
three_rounds() { [ "$(rounds)" -ge 3 ]; }
wait_for "fewer than 3 rounds" three_rounds
two_kinds || fail "after 3 rounds: $(statuses)"
curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -c '^kata_pulse_sandbox_skipped{.*hypervisor="qemu"} 1$' | grep -qx 2 ||
    fail "kata_pulse_sandbox_skipped does not list the two QEMU sandboxes"
grep -q 'msg="not asking the sandbox' "$work/rs.err" || fail "the skip was not logged"
kill -TERM "$pid"
wait "$pid" || true
pid=

echo "demo-promtool: ok"
