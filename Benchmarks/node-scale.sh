#!/usr/bin/env bash
# Node-scale benchmark: for each size, the agent on that many simulated shims (mixed Go/runtime-rs), then
#   - the round time, the plain body, and the agent's RSS at rest and at the peak of a round, beside its own
#     baseline (the same agent with no sandboxes) and as multiples of the plain body;
#   - wrk against the agent's /metrics and against nginx from Debian serving the same bytes from disk
#     (gzip_static for the gzip case), plain and gzip, one after the other in the same run: req/s, p99 and
#     the ratio agent / nginx.
#   Benchmarks/node-scale.sh                        # 110, 500 and 1000 sandboxes, 10 s per wrk run
#   SIZES=110 DURATION=3 Benchmarks/node-scale.sh   # what CI runs
#   KATA_PULSE_BINARY=path Benchmarks/node-scale.sh # that binary (CI: its release binary); else a release build
#   AGENT_ARGS="--remote-write-url http://127.0.0.1:8428/api/v1/write" Benchmarks/node-scale.sh
#                                                   # extra flags for the measured agents (not the baseline)
# Needs nginx (nginx-light), wrk, curl and jq. The last lines are one table row per size.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-110 500 1000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
# Long enough that a wrk run overlaps at most one round, as in production (60 s by default).
INTERVAL=${INTERVAL:-15}

if [ -z "${KATA_PULSE_BINARY:-}" ]; then
    KATA_PULSE_BINARY=$(scripts/release-binary.sh)
fi
export KATA_PULSE_BINARY
# The end-to-end scripts' set-up: $work, $pids ended on exit, the pollers, free_port, metric; $bin.
source Tests/e2e/lib/common.bash
command -v nginx >/dev/null || fail "nginx is not installed (apt-get install nginx-light)"
command -v wrk >/dev/null || fail "wrk is not installed"

kib() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$2/status"; }
rounds() { metric "$1" kata_pulse_collection_rounds_total; }
# rounds_past PORT N: at least N rounds completed.
rounds_past() { [ "$(rounds "$1")" -ge "$2" ]; }

# agent ROOT PORT [FLAG...]: starts the agent; prints its pid.
agent() {
    "$bin" --sandbox-root "$1" --listen-address "127.0.0.1:$2" --metrics-interval-secs "$INTERVAL" \
        --runtime-endpoint none "${@:3}" 2>>"$work/agent.err" >/dev/null &
    echo $!
}
read -r -a agent_args <<<"${AGENT_ARGS:-}"

# The baseline: the agent with no sandboxes, after two rounds.
port=$(free_port)
mkdir -p "$work/empty"
pid=$(agent "$work/empty" "$port")
pids+=("$pid")
WAIT_SECONDS=$((INTERVAL * 3)) wait_for "the idle agent never completed two rounds" rounds_past "$port" 2
baseline=$(kib VmRSS "$pid")
kill "$pid"
echo "baseline: the agent with no sandboxes, RSS ${baseline} kB"

# wrk_run URL [HEADER]: "req/s p99-ms" of one wrk run.
wrk_run() {
    local args=(-t2 "-c$CONNECTIONS" "-d${DURATION}s" --latency)
    [ -n "${2:-}" ] && args+=(-H "$2")
    wrk "${args[@]}" "$1" >"$work/wrk.out"
    local rate p99
    rate=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$work/wrk.out")
    grep -q 'Non-2xx' "$work/wrk.out" && fail "wrk saw errors against $1: $(cat "$work/wrk.out")"
    echo "$rate $p99"
}

rows=()
for size in $SIZES; do
    echo "--- $size sandboxes"
    root="$work/sbs-$size"
    "$bin" simulate --root "$root" --sandboxes "$size" --flavor mixed >"$work/sim-$size.out" 2>"$work/sim-$size.err" &
    simulator=$!
    pids+=("$simulator")
    simulator_started() { [ "$(wc -l <"$work/sim-$size.out")" -ge "$size" ]; }
    WAIT_SECONDS=60 wait_for "the simulator did not start $size shims" simulator_started
    port=$(free_port)
    pid=$(agent "$root" "$port" "${agent_args[@]}")
    pids+=("$pid")
    all_up() {
        curl -fsS "http://127.0.0.1:$port/sandboxes?format=json" | jq -e "length == $size and all(.status == \"up\")"
    }
    WAIT_SECONDS=120 wait_for "not every sandbox is up: $(tail -3 "$work/agent.err")" all_up
    # A full round over every sandbox (the first may have run before discovery), then the state at rest.
    WAIT_SECONDS=$((INTERVAL * 4)) wait_for "no second round" rounds_past "$port" 2
    # At rest: before any uncompressed request (one makes the snapshot keep its body joined until the next).
    steady=$(kib VmRSS "$pid")
    # The peak of the next round alone: clear the high-water mark, then wait for the round to end.
    echo 5 >"/proc/$pid/clear_refs"
    done_rounds=$(rounds "$port")
    WAIT_SECONDS=$((INTERVAL * 3)) wait_for "no round after the first two" rounds_past "$port" $((done_rounds + 1))
    peak=$(kib VmHWM "$pid")
    round=$(metric "$port" kata_pulse_collection_round_duration_seconds)
    curl -fsS -o "$work/metrics" "http://127.0.0.1:$port/metrics"
    curl -fsS -H 'Accept-Encoding: gzip' -o "$work/metrics.gz" "http://127.0.0.1:$port/metrics"
    body=$(stat -c %s "$work/metrics")
    gzip_size=$(stat -c %s "$work/metrics.gz")
    series=$(grep -vc '^#' "$work/metrics")

    # nginx serves the same bytes from disk: the agent's response bodies, saved above.
    nginx_port=$(free_port)
    mkdir -p "$work/nginx/root" "$work/nginx/tmp"
    cp "$work/metrics" "$work/nginx/root/metrics"
    cp "$work/metrics.gz" "$work/nginx/root/metrics.gz"
    # nginx's workers drop root's rights: they need to reach the files.
    chmod a+x "$work" "$work/nginx"
    chmod -R a+rX "$work/nginx/root"
    cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp;
    proxy_temp_path $work/nginx/tmp;
    fastcgi_temp_path $work/nginx/tmp;
    uwsgi_temp_path $work/nginx/tmp;
    scgi_temp_path $work/nginx/tmp;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    gzip_static on;
    default_type "text/plain; version=0.0.4; charset=utf-8";
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/nginx/root;
    }
}
CONF
    nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
    pids+=($!)
    nginx_pid=$!
    wait_http -o /dev/null "http://127.0.0.1:$nginx_port/metrics" || fail "nginx did not start: $(cat "$work/nginx/error.log")"
    cmp -s "$work/metrics.gz" <(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$nginx_port/metrics") \
        || fail "nginx does not serve the gzip file"

    read -r agent_plain agent_plain_p99 < <(wrk_run "http://127.0.0.1:$port/metrics")
    read -r nginx_plain nginx_plain_p99 < <(wrk_run "http://127.0.0.1:$nginx_port/metrics")
    read -r agent_gzip agent_gzip_p99 < <(wrk_run "http://127.0.0.1:$port/metrics" 'Accept-Encoding: gzip')
    read -r nginx_gzip nginx_gzip_p99 < <(wrk_run "http://127.0.0.1:$nginx_port/metrics" 'Accept-Encoding: gzip')
    after=$(kib VmRSS "$pid")
    kill -0 "$pid" || fail "the agent died"
    kill "$nginx_pid" "$pid" "$simulator"
    wait "$nginx_pid" "$pid" "$simulator" 2>/dev/null || true

    row=$(awk -v n="$size" -v series="$series" -v body="$body" -v gz="$gzip_size" -v round="$round" \
        -v base="$baseline" -v steady="$steady" -v peak="$peak" -v after="$after" \
        -v ap="$agent_plain" -v np="$nginx_plain" -v ag="$agent_gzip" -v ng="$nginx_gzip" \
        -v app="$agent_plain_p99" -v npp="$nginx_plain_p99" -v agp="$agent_gzip_p99" -v ngp="$nginx_gzip_p99" 'BEGIN {
        mb = body / 1e6
        printf "| %d | %d | %.1f MB | %.0f KB | %.2f s | %.0f MB (+%.2f× body) | %.0f MB (+%.2f× body) | %.0f MB | %.1f / %.1f = %.2f× (p99 %.0f / %.0f ms) | %.1f / %.1f = %.2f× (p99 %.1f / %.1f ms) |",
            n, series, mb, gz / 1e3, round, steady / 1024, (steady - base) * 1024 / body, peak / 1024,
            (peak - base) * 1024 / body, after / 1024, ap, np, ap / np, app, npp, ag, ng, ag / ng, agp, ngp
    }')
    echo "$row"
    rows+=("$row")
done
echo "--- node scale (baseline RSS $((baseline / 1024)) MB; wrk -t2 -c$CONNECTIONS -d${DURATION}s; interval ${INTERVAL}s)"
echo "| sandboxes | series | plain body | gzip body | round | RSS at rest (over baseline) | RSS peak of a round (over baseline) | RSS after load | plain req/s agent / nginx | gzip req/s agent / nginx |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
