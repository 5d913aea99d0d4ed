#!/usr/bin/env bash
# End-to-end with Debian's prometheus-node-exporter: the agent writes its snapshot into a textfile directory
# after every round, with hostile (inject) and conflicting simulated shims present; node_exporter's textfile
# collector accepts it (node_textfile_scrape_error 0) and serves every series in the file — none silently
# dropped. Then, on a real 4 MiB tmpfs in a private mount namespace: a full file system and a read-only one
# make writes fail (counted) while the previous file stays whole, and writes resume when space returns.
source "$(dirname "$0")/lib/common.bash"
# The agent, node_exporter, the agent on the tmpfs, the agent that removes its file.
read -r AGENT_PORT NODE_PORT SMALL_PORT REMOVING_PORT < <(free_port 4)
mkdir -p "$work/sbs" "$work/textfile"
"$bin" simulate --root "$work/sbs" --sandboxes 5 --flavor mixed --faults inject:1,conflict:1 >/dev/null 2>"$work/sim.err" &
pids+=($!)
sleep 0.5
"$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 \
    --listen-address "127.0.0.1:$AGENT_PORT" --textfile-dir "$work/textfile" 2>"$work/agent.err" &
pids+=($!)
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$work/textfile" --web.listen-address="127.0.0.1:$NODE_PORT" \
    >"$work/node.log" 2>&1 &
pids+=($!)

poll test -s "$work/textfile/kata-pulse.prom" || fail "no textfile written: $(tail -3 "$work/agent.err")"
sleep 2.5  # a few rounds, so every sandbox (and the type conflict) is in the file
node_scraped() { curl -fsS "http://127.0.0.1:$NODE_PORT/metrics" >"$work/node.prom"; }
poll node_scraped || fail "node_exporter does not answer: $(tail -3 "$work/node.log")"
cp "$work/textfile/kata-pulse.prom" "$work/file.prom"
ls -a "$work/textfile" | grep -q '\.prom$' || fail "file missing"
[ "$(ls -a "$work/textfile" | grep -vc '^\.\.\?$')" = 1 ] || fail "stray files in the textfile directory: $(ls -a "$work/textfile")"

python3 - "$work/file.prom" "$work/node.prom" <<'PY'
import sys
import exposition
file_samples, node_samples = exposition.read(sys.argv[1]), exposition.read(sys.argv[2])
# Series as (name, sorted label pairs): node_exporter writes labels sorted, the agent in its own order.
in_file, served = {s.key() for s in file_samples}, {s.key() for s in node_samples}
errors = [s for s in node_samples if s.name == "node_textfile_scrape_error"]
assert errors and errors[0].value == 0, f"node_textfile_scrape_error: {[s.text for s in errors]}"
assert any(value.startswith("evil") for _, labels in in_file for name, value in labels if name == "interface"), \
    "inject sandbox missing"
missing = in_file - served
assert not missing, f"{len(missing)} of {len(in_file)} series in the file are not served, e.g. {sorted(missing)[:3]}"
print(f"node_exporter serves all {len(in_file)} series of the file; node_textfile_scrape_error 0")
PY
grep -q '^kata_pulse_type_conflicts 1$' "$work/file.prom" || fail "the conflict sandbox was not in the file"

echo "== on a clean shutdown the file stays, or goes with --textfile-remove-on-exit"
kill -TERM "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
[ -s "$work/textfile/kata-pulse.prom" ] || fail "the file went away on shutdown"
mkdir -p "$work/removed"
KATA_PULSE_TEXTFILE_REMOVE_ON_EXIT=true "$bin" --sandbox-root "$work/sbs" --runtime-endpoint none \
    --metrics-interval-secs 1 --listen-address "127.0.0.1:$REMOVING_PORT" --textfile-dir "$work/removed" \
    2>"$work/removed.err" &
removing=$!
wait_for "no file to remove" test -s "$work/removed/kata-pulse.prom"
kill -TERM "$removing"; wait "$removing" || fail "exit status on SIGTERM"
[ ! -e "$work/removed/kata-pulse.prom" ] || fail "--textfile-remove-on-exit left the file"

echo "== full and read-only file systems keep the previous file"
mkdir -p "$work/small"
export -f poll wait_for fail metric
unshare --mount --propagation private bash -euc '
    work=$1 bin=$2 port=$3
    mount -t tmpfs -o size=4m tmpfs "$work/small"
    # counter_above FAMILY N: the agent counts more than N.
    counter_above() { [ "$(metric "$port" "$1")" -gt "$2" ]; }
    "$bin" --sandbox-root "$work/sbs" --runtime-endpoint none --metrics-interval-secs 1 --exposition kata \
        --textfile-exposition kata --listen-address "127.0.0.1:$port" --textfile-dir "$work/small" \
        2>"$work/small-agent.err" &
    agent=$!
    trap "kill $agent 2>/dev/null || true" EXIT
    wait_for "no file on the tmpfs" test -s "$work/small/kata-pulse.prom"
    sleep 1.2
    dd if=/dev/zero of="$work/small/filler" bs=64k 2>/dev/null || true   # fill the file system
    cp "$work/small/kata-pulse.prom" "$work/before-full.prom"
    wait_for "a full disk was not counted" counter_above kata_pulse_textfile_write_failures_total 0
    cmp -s "$work/small/kata-pulse.prom" "$work/before-full.prom" || { echo "the file changed while the disk was full"; exit 1; }
    promtool check metrics <"$work/small/kata-pulse.prom" >/dev/null 2>&1 || [ $? = 3 ] || { echo "file not whole"; exit 1; }
    ls -a "$work/small" | grep -q "\.tmp$" && { echo "temporary file left behind"; exit 1; }
    grep -c "No space left on device" "$work/small-agent.err" | grep -qx 1 || { echo "ENOSPC not logged exactly once"; exit 1; }
    written=$(metric "$port" kata_pulse_textfile_writes_total)
    rm "$work/small/filler"
    poll counter_above kata_pulse_textfile_writes_total "$written" || { echo "writes did not resume: $written -> $(metric "$port" kata_pulse_textfile_writes_total)"; tail -5 "$work/small-agent.err"; df "$work/small"; ls -la "$work/small"; exit 1; }
    sleep 1.2
    mount -o remount,ro "$work/small"
    failures=$(metric "$port" kata_pulse_textfile_write_failures_total)
    cp "$work/small/kata-pulse.prom" "$work/before-ro.prom"
    wait_for "a read-only file system was not counted" counter_above kata_pulse_textfile_write_failures_total "$failures"
    cmp -s "$work/small/kata-pulse.prom" "$work/before-ro.prom" || { echo "the file changed on a read-only file system"; exit 1; }
    grep -q "Read-only file system" "$work/small-agent.err" || { echo "EROFS not logged"; exit 1; }
    echo "full: failure counted, file intact, no temporary left, logged once, writes resumed; read-only: counted, file intact"
' _ "$work" "$bin" "$SMALL_PORT"
echo "textfile-node-exporter: ok"
