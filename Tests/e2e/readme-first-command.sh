#!/usr/bin/env bash
# End-to-end: the README's first command, as written there (`scripts/bootstrap && swift run kata-pulse demo`,
# with --listen-address on a free port), installs nothing more here, builds if needed, and serves a simulated
# node whose /metrics answers; SIGINT stops it cleanly.
source "$(dirname "$0")/lib/common.bash"
command=$(sed -n 's/^\(scripts\/bootstrap && swift run kata-pulse demo\)\( *#.*\)*$/\1/p' README.md | head -1)
[ -n "$command" ] || fail "README.md has no line 'scripts/bootstrap && swift run kata-pulse demo'"
read -r port < <(free_port)
setsid bash -c "$command --listen-address 127.0.0.1:$port" >"$work/demo.out" 2>"$work/demo.err" &
demo=$!
pids+=("$demo")
# Until the first round, /metrics holds only the agent's own families.
series() { curl -fsS "http://127.0.0.1:$port/metrics" | grep -vc '^#'; }
collected() { [ "$(series)" -gt 100 ]; }
poll collected || fail "the README's demo never served the simulated node's series: $(tail -5 "$work/demo.err")"
grep -q "Open http://127.0.0.1:$port/" "$work/demo.out" || fail "the demo did not print its URL"
series=$(series)
kill -INT -- "-$demo"
WAIT_SECONDS=10 poll process_gone "$demo" || fail "the demo did not stop on SIGINT"
echo "readme-first-command: '$command' served $series series; stopped on SIGINT"
