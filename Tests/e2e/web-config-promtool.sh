#!/usr/bin/env bash
# End-to-end: the agent and Debian's promtool (exporter-toolkit 0.8, as node_exporter and Prometheus use it)
# agree on web configuration files. Every file under Tests/e2e/web-configs/ is checked by both, beside a
# fresh PKI (the files name server.pem, ca.pem, … relatively):
#   good-*      both accept it
#   bad-*       both refuse it (the agent's message names the field, with the line where it has one)
#   stricter-*  promtool accepts it but it cannot work (every handshake would fail); the agent refuses it
# So every file the agent accepts, promtool accepts, and every file promtool refuses, the agent refuses.
source "$(dirname "$0")/lib/common.bash"

Tests/e2e/lib/make-pki.sh "$work"
cp Tests/e2e/web-configs/*.yml "$work/"
cd "$work"
failures=0
count=0
for file in good-*.yml bad-*.yml stricter-*.yml; do
    count=$((count + 1))
    promtool_says=$(promtool check web-config "$file" 2>&1 | head -1 || true)
    agent_says=$("$bin" check-web-config "$file" 2>&1 | head -1 || true)
    case "$file" in
        good-*) want_promtool=SUCCESS want_agent=SUCCESS ;;
        bad-*) want_promtool=FAILED want_agent=FAILED ;;
        stricter-*) want_promtool=SUCCESS want_agent=FAILED ;;
    esac
    verdict=ok
    [[ "$promtool_says" == "$file $want_promtool"* ]] || verdict="promtool differs"
    [[ "$agent_says" == "$file $want_agent"* ]] || verdict="agent differs"
    # A refusal names what is wrong: a field (dotted) or the YAML problem.
    if [ "$want_agent" = FAILED ] && [[ ! "$agent_says" =~ FAILED:\ (line\ [0-9]+:\ )?[a-z_]+[.:\ ] ]]; then
        verdict="agent's message names no field"
    fi
    printf '%-46s %-4s promtool: %-9s agent: %.90s\n' "$file" "$([ "$verdict" = ok ] && echo ok || echo FAIL)" \
        "${promtool_says#"$file "}" "${agent_says#"$file "}" | cut -c1-170
    [ "$verdict" = ok ] || { echo "  $verdict: promtool: $promtool_says"; failures=$((failures + 1)); }
done
[ "$failures" = 0 ] || fail "$failures of $count web configurations judged differently"
echo "web-config-promtool: ok ($count files)"
