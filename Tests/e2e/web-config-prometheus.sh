#!/usr/bin/env bash
# End-to-end: Debian's Prometheus scrapes two agents that serve behind --web.config.file (exporter-toolkit's
# format): one with TLS and basic auth, one with mutual TLS and socket activation (systemd-socket-activate
# passes the listening socket, as the .socket unit does). Prometheus' own view of each target must be:
#   TLS + right password          up 1        TLS + wrong password   up 0, HTTP 401
#   plain http:// to the TLS port up 0, 400   mTLS client cert       up 1
#   certificate of another CA     up 0        no client certificate  up 0
# Then the password is changed in the file (htpasswd, as the docs suggest): without a restart, the old
# password's job goes down and the new one's comes up.
source "$(dirname "$0")/lib/common.bash"

pki=$work/pki
Tests/e2e/lib/make-pki.sh "$pki"
hash() { htpasswd -nbB -C 10 prometheus "$1" | cut -d: -f2-; }
write_auth_config() {
    cat >"$pki/web-auth.yml.new" <<YAML
tls_server_config:
  cert_file: server.pem
  key_file: server.key
basic_auth_users:
  prometheus: $(hash "$1")
YAML
    mv "$pki/web-auth.yml.new" "$pki/web-auth.yml"  # replaced at once, as Kubernetes swaps a Secret
}
write_auth_config secret
cat >"$pki/web-mtls.yml" <<YAML
tls_server_config:
  cert_file: server.pem
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
YAML

"$bin" simulate --root "$work/sbs" --sandboxes 2 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
read -r AUTH_PORT MTLS_PORT PROM_PORT < <(free_port 3)
"$bin" --sandbox-root "$work/sbs" --listen-address "127.0.0.1:$AUTH_PORT" --metrics-interval-secs 1 \
    --web.config.file "$pki/web-auth.yml" 2>"$work/auth.err" &
pids+=($!)
systemd-socket-activate --listen="127.0.0.1:$MTLS_PORT" \
    "$bin" --sandbox-root "$work/sbs" --metrics-interval-secs 1 --web.config.file "$pki/web-mtls.yml" \
    2>"$work/mtls.err" &
pids+=($!)

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tls-basic
    scheme: https
    tls_config: {ca_file: $pki/ca.pem}
    basic_auth: {username: prometheus, password: secret}
    static_configs: [{targets: ["127.0.0.1:$AUTH_PORT"]}]
  - job_name: new-password
    scheme: https
    tls_config: {ca_file: $pki/ca.pem}
    basic_auth: {username: prometheus, password: changed}
    static_configs: [{targets: ["127.0.0.1:$AUTH_PORT"]}]
  - job_name: wrong-password
    scheme: https
    tls_config: {ca_file: $pki/ca.pem}
    basic_auth: {username: prometheus, password: guess}
    static_configs: [{targets: ["127.0.0.1:$AUTH_PORT"]}]
  - job_name: plain-http
    basic_auth: {username: prometheus, password: secret}
    static_configs: [{targets: ["127.0.0.1:$AUTH_PORT"]}]
  - job_name: mtls
    scheme: https
    tls_config: {ca_file: $pki/ca.pem, cert_file: $pki/client.pem, key_file: $pki/client.key}
    static_configs: [{targets: ["127.0.0.1:$MTLS_PORT"]}]
  - job_name: foreign-ca
    scheme: https
    tls_config: {ca_file: $pki/ca.pem, cert_file: $pki/foreign-client.pem, key_file: $pki/foreign-client.key}
    static_configs: [{targets: ["127.0.0.1:$MTLS_PORT"]}]
  - job_name: no-client-cert
    scheme: https
    tls_config: {ca_file: $pki/ca.pem}
    static_configs: [{targets: ["127.0.0.1:$MTLS_PORT"]}]
YAML
promtool check config "$work/prometheus.yml" >/dev/null
promtool check web-config "$pki/web-auth.yml" "$pki/web-mtls.yml" >/dev/null 2>&1 || fail "promtool refuses the web configs"
start_prometheus "$PROM_PORT"

# targets: "job health lastError" per line, from Prometheus' own API.
targets() {
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/targets" |
        jq -r '.data.activeTargets[] | "\(.labels.job) \(.health) \(.lastError)"' | sort
}
# expect JOB HEALTH [ERROR-SUBSTRING]: the target's state is as given.
expect() {
    local line
    line=$(targets | awk -v job="$1" '$1 == job')
    [[ "$line" == "$1 $2"* ]] && [[ -z "${3:-}" || "$line" == *"$3"* ]]
}
settled() {
    expect tls-basic up && expect new-password down "401" && expect wrong-password down "401" &&
        expect plain-http down "400" && expect mtls up && expect foreign-ca down && expect no-client-cert down
}
WAIT_SECONDS=60 poll settled || fail "targets are not as expected:
$(targets)
agent (auth): $(tail -3 "$work/auth.err")
agent (mtls): $(tail -3 "$work/mtls.err")"
targets | sed 's/^/  /'
grep -q "serving HTTPS" "$work/mtls.err" || fail "the socket-activated agent does not say it serves HTTPS"
# Prometheus got the series through TLS: the simulated sandboxes are in its store.
query() { curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result | length'; }
stored() { [ "$(query 'kata_pulse_sandbox_up{job="mtls"} == 1')" = 2 ] && [ "$(query 'kata_pulse_sandbox_up{job="tls-basic"} == 1')" = 2 ]; }
poll stored || fail "sandbox series did not reach Prometheus over TLS"

echo "== the password changes in the file; no restart"
write_auth_config changed
swapped() { expect tls-basic down "401" && expect new-password up; }
WAIT_SECONDS=30 poll swapped || fail "password change did not take effect: $(targets)"
grep -q "web configuration reloaded" "$work/auth.err" || fail "reload not logged: $(tail -3 "$work/auth.err")"
targets | sed 's/^/  /'
echo "web-config-prometheus: ok"
