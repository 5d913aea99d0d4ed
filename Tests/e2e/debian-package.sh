#!/usr/bin/env bash
# End-to-end: the Debian package, built by packaging/build-deb.sh, checked by lintian, then installed into a
# real Debian bookworm booted with systemd as PID 1 in systemd-nspawn (no Swift in it, no network):
#   socket active and service stopped after install; the first connection starts it; simulated shims show in
#   /metrics (with kata_monitor_process_* under ProcSubset=pid), /sandboxes and StatusText; WatchdogUSec set; journal entries carry SANDBOX_ID; a textfile
#   directory set in /etc/default/kata-pulse gets the snapshot after a restart; a wedged collector is
#   restarted by the watchdog; systemctl stop ends it within a second; systemd-analyze security scores the
#   unit as offline; an upgrade restarts the service; purge removes everything, the conffile included.
# The monitoring mixin is in /usr/share/kata-pulse/monitoring as in the tree, and promtool accepts it there.
# Needs root, debootstrap and systemd-container. KP_E2E_ROOTFS (a tarball path) caches the bare bookworm.
# Takes about 2 minutes after the release build.
source "$(dirname "$0")/lib/common.bash"
rm -rf "$work"
work=$(mktemp -d /var/tmp/kp-deb-XXXXXX)  # not /tmp: the booted container gets a tmpfs there
root="$work/root"

echo "== build and lint"
deb=${KP_DEB:-$(packaging/build-deb.sh "$work/out")}  # KP_DEB: test an already built package
echo "package: $deb ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb -f "$deb" Depends
[ -n "${KP_SKIP_LINTIAN:-}" ] || lintian --fail-on error,warning --tag-display-limit 0 "$deb" || fail "lintian reported errors or warnings"
echo "lintian: no errors, no warnings"

# Every flag and environment variable of --help is in the man page.
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" "$work/extracted"
man_page=$(zcat "$work/extracted/usr/share/man/man1/kata-pulse.1.gz" | sed 's/\\-/-/g')
help=$("$work/extracted/usr/bin/kata-pulse" --help)
[ "$("$work/extracted/usr/bin/kata-pulse" --version)" = "$version" ] || fail "binary version differs from $version"
for word in $(grep -Eo -- '--[a-z][a-z-]+|\b(KATA_PULSE_[A-Z_]+|RUNTIME_ENDPOINT|RUST_LOG)\b' <<<"$help" | sort -u); do
    grep -qF -- "$word" <<<"$man_page" || fail "kata-pulse(1) does not mention $word"
done
echo "kata-pulse(1) covers every flag and variable of --help"

# The monitoring mixin, rendered, as in the tree; its rule files load and their unit tests pass where installed.
shipped="$work/extracted/usr/share/kata-pulse/monitoring"
for file in kata-pulse-alerts.yaml kata-pulse-rules.yaml tests/kata-pulse.test.yaml dashboards/kata-pulse-fleet.json \
    dashboards/kata-pulse-node.json dashboards/kata-pulse-pod.json mixin.libsonnet; do
    cmp -s "$shipped/$file" "monitoring/$file" || fail "/usr/share/kata-pulse/monitoring/$file differs from monitoring/$file"
done
promtool check rules "$shipped/kata-pulse-alerts.yaml" "$shipped/kata-pulse-rules.yaml" >/dev/null ||
    fail "promtool rejects the packaged rule files"
promtool test rules "$shipped/tests/kata-pulse.test.yaml" >/dev/null || fail "the packaged rule tests fail"
echo "/usr/share/kata-pulse/monitoring: the mixin's rules (promtool check and test pass there) and dashboards"

echo "== boot bookworm with systemd in nspawn"
cache=${KP_E2E_ROOTFS:-}
mkdir -p "$root"
if [ -n "$cache" ] && [ -f "$cache" ]; then
    tar -C "$root" -xf "$cache"
else
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    # libyaml-0-2, libsnappy1v5, ca-certificates: the package's dependencies and recommendation minbase lacks
    # (the container has no network for apt).
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libyaml-0-2,libsnappy1v5,ca-certificates \
        bookworm "$root" \
        "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log"; fail "debootstrap failed"; }
    [ -n "$cache" ] && tar -C "$root" -cf "$cache" .
fi
! chroot "$root" sh -c 'command -v swift' >/dev/null || fail "the container must not have Swift"

container_pid=
leader=
nspawn_cleanup() {
    [ -n "$leader" ] && nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1 || true
    WAIT_SECONDS=10 poll process_gone "$container_pid" || true
    [ -n "$container_pid" ] && kill -KILL "$container_pid" 2>/dev/null || true
    # nspawn leaves empty cgroups behind when the host has no systemd.
    for h in systemd unified; do
        find "/sys/fs/cgroup/$h/payload" "/sys/fs/cgroup/$h/supervisor" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    e2e_cleanup
}
trap nspawn_cleanup EXIT
# --register=no --keep-unit: there is no systemd (and no machined) on the host.
setsid systemd-nspawn -D "$root" -M "kpdeb$$" --boot --register=no --keep-unit --private-network \
    --console=read-only </dev/null >"$work/console.log" 2>&1 &
container_pid=$!
# The container's PID 1 (systemd), seen from the host; sets $leader.
leader_started() {
    leader=$(ps -o pid= --ppid "$container_pid" | tr -d ' ' | head -1 || true)
    [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ]
}
poll leader_started || fail "systemd-nspawn did not start systemd: $(tail -5 "$work/console.log")"
manager_listening() { [ -S "/proc/$leader/root/run/systemd/private" ]; }
wait_for "systemd in the container did not open its private socket" manager_listening
# In the container: all its namespaces, a clean environment (machinectl does not work without machined).
inside() { nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"; }
# HTTP from the host's curl inside the container's network namespace.
http() { nsenter -t "$leader" -n curl -fsS --max-time 10 "http://127.0.0.1:8090$1"; }
state=$(inside systemctl is-system-running --wait || true)
[ "$state" = running ] || [ "$state" = degraded ] || fail "container did not boot: $state"
show() { inside systemctl show kata-pulse.service -p "$1" --value; }
# A failure shows the service's last journal entries.
fail() {
    echo "FAIL: $*" >&2
    inside journalctl -u kata-pulse.service --no-pager -n 30 >&2 || true
    exit 1
}

echo "== install"
cp "$deb" "$root/var/tmp/kata-pulse.deb"
inside apt-get install -y -q /var/tmp/kata-pulse.deb >"$work/apt-install.log" 2>&1 ||
    { cat "$work/apt-install.log"; fail "apt-get install failed"; }
inside systemctl is-active -q kata-pulse.socket || fail "kata-pulse.socket is not active after install"
inside systemctl is-enabled -q kata-pulse.socket || fail "kata-pulse.socket is not enabled"
[ "$(show ActiveState)" = inactive ] || fail "the service runs before any connection: $(show ActiveState)"
out=$(inside systemd-analyze verify kata-pulse.socket kata-pulse.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
echo "socket active and enabled, service inactive, units verify clean"

# Shorter rounds for the test, the way a user configures it.
echo "KATA_PULSE_METRICS_INTERVAL=2" >>"$root/etc/default/kata-pulse"
inside systemd-run --unit kp-shims --quiet kata-pulse simulate --root /run/vc/sbs --sandboxes 3
shims_running() { [ "$(ls "/proc/$leader/root/run/vc/sbs" 2>/dev/null | wc -l)" -eq 3 ]; }
wait_for "simulated shims did not start" shims_running
# As on a Kata host: sandbox directories and shim sockets only root may enter and use (the unit keeps no
# capability, root connects as their owner).
chmod 0700 "/proc/$leader/root/run/vc/sbs"/*/
chmod 0600 "/proc/$leader/root/run/vc/sbs"/*/shim-monitor.sock
http /metrics >/dev/null || fail "the first connection was not answered"
[ "$(show ActiveState)" = active ] || fail "the first connection did not start the service"
echo "first connection answered; service started by the socket"

ids=$(ls "/proc/$leader/root/run/vc/sbs")
sandboxes_listed() { [ "$(http /sandboxes | sort)" = "$ids" ]; }
wait_for "/sandboxes does not list the simulated sandboxes" sandboxes_listed
all_in_metrics() { local body; body=$(http /metrics); for id in $ids; do grep -q "sandbox_id=\"$id\"" <<<"$body" || return 1; done; }
wait_for "/metrics lacks a simulated sandbox" all_in_metrics
# kata-monitor's process families, read from /proc/self under the unit's ProcSubset=pid.
process=$(http '/metrics?filter_family=kata_monitor_process_')
for family in cpu_seconds_total max_fds open_fds resident_memory_bytes start_time_seconds virtual_memory_bytes \
    virtual_memory_max_bytes; do
    grep -Eq "^kata_monitor_process_$family [0-9.e+]+$" <<<"$process" || fail "no kata_monitor_process_$family: $process"
done
grep -Eq '^kata_monitor_process_open_fds [1-9]' <<<"$process" || fail "open_fds is not counted: $process"
status_served() { show StatusText | grep -q '^3 sandboxes: 3 served, 0 failing'; }
wait_for "StatusText does not report the sandboxes: $(show StatusText)" status_served
echo "StatusText: $(show StatusText)"
[ "$(show WatchdogUSec)" = 30s ] || fail "WatchdogUSec is $(show WatchdogUSec)"
journal_has_sandbox_ids() { inside journalctl -u kata-pulse.service -o json --no-pager | grep -q '"SANDBOX_ID"'; }
wait_for "no journal entry with SANDBOX_ID" journal_has_sandbox_ids
echo "WatchdogUSec 30s; journal entries carry SANDBOX_ID"

echo "== textfile through /etc/default/kata-pulse"
mkdir -p "$root/var/lib/prometheus/node-exporter"
echo "KATA_PULSE_TEXTFILE_DIR=/var/lib/prometheus/node-exporter" >>"$root/etc/default/kata-pulse"
inside systemctl restart kata-pulse.service
textfile="$root/var/lib/prometheus/node-exporter/kata-pulse.prom"
textfile_has_sandboxes() { for id in $ids; do grep -q "sandbox_id=\"$id\"" "$textfile" || return 1; done; }
wait_for "no textfile snapshot with the sandboxes" textfile_has_sandboxes
echo "snapshot written: $(wc -l <"$textfile") lines"

echo "== watchdog"
# A shim that never answers, a shim deadline (60 s) far past a 3 s watchdog: collection wedges, pings stop.
mkdir -p "$root/etc/systemd/system/kata-pulse.service.d"
printf '[Service]\nWatchdogSec=3\nEnvironment=KATA_PULSE_SHIM_TIMEOUT_MS=60000\n' \
    >"$root/etc/systemd/system/kata-pulse.service.d/e2e.conf"
inside systemd-run --unit kp-hung --quiet kata-pulse simulate --root /run/vc/sbs --sandboxes 1 --seed 7 --faults hang:1
inside systemctl daemon-reload
inside systemctl restart kata-pulse.service
first_pid=$(show MainPID)
restarted_by_watchdog() {
    inside journalctl -u kata-pulse.service --no-pager | grep -q 'Watchdog timeout' &&
        [ "$(show ActiveState)" = active ] && [ "$(show MainPID)" != "$first_pid" ] && [ "$(show MainPID)" != 0 ]
}
wait_for "the watchdog did not restart the wedged service" restarted_by_watchdog
inside journalctl -u kata-pulse.service --no-pager | grep -q "Failed with result 'watchdog'" ||
    fail "no Result=watchdog in the journal"
echo "watchdog fired (Result=watchdog); running again as PID $(show MainPID)"
inside systemctl stop kp-hung.service
rm -r "$root/etc/systemd/system/kata-pulse.service.d"
inside systemctl daemon-reload
inside systemctl restart kata-pulse.service
http /healthz >/dev/null || fail "not serving after the watchdog test"

echo "== TLS and basic auth through /etc/default/kata-pulse, as the packaged example says"
example=/usr/share/doc/kata-pulse/examples/web-config.yml
[ -f "$root$example" ] || fail "$example is not installed"
inside kata-pulse check-web-config "$example" >/dev/null || fail "the packaged example does not load as shipped"
install -d -m 0700 "$root/etc/kata-pulse"
Tests/e2e/lib/make-pki.sh "$work/pki"
install -m 0600 "$work/pki/server.pem" "$root/etc/kata-pulse/tls.crt"
install -m 0600 "$work/pki/server.key" "$root/etc/kata-pulse/tls.key"
cat >"$root/etc/kata-pulse/web-config.yml" <<YAML
tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
basic_auth_users:
  prometheus: $(htpasswd -nbB -C 10 prometheus secret | cut -d: -f2-)
YAML
chmod 0600 "$root/etc/kata-pulse/web-config.yml"
inside kata-pulse check-web-config /etc/kata-pulse/web-config.yml >/dev/null || fail "check-web-config refuses it"
cp "$root/etc/default/kata-pulse" "$work/default.saved"
echo "KATA_PULSE_WEB_CONFIG_FILE=/etc/kata-pulse/web-config.yml" >>"$root/etc/default/kata-pulse"
inside systemctl restart kata-pulse.service
https() { nsenter -t "$leader" -n curl -sS --max-time 10 --cacert "$work/pki/ca.pem" -o /dev/null -w '%{http_code}' "$@"; }
tls_served() { [ "$(https -u prometheus:secret https://127.0.0.1:8090/metrics)" = 200 ]; }
wait_for "the sandboxed service does not serve TLS with basic auth: $(https https://127.0.0.1:8090/metrics 2>&1)" tls_served
[ "$(https https://127.0.0.1:8090/metrics)" = 401 ] || fail "/metrics without credentials is not 401"
[ "$(https https://127.0.0.1:8090/healthz)" = 200 ] || fail "/healthz over TLS is not 200"
echo "under the unit's sandbox: TLS with basic auth 200, without credentials 401, /healthz 200"
cp "$work/default.saved" "$root/etc/default/kata-pulse"
inside systemctl restart kata-pulse.service
http /healthz >/dev/null || fail "not serving plain HTTP again"

echo "== stop"
inside systemctl stop kata-pulse.service 2>/dev/null
# From leaving "active" (SIGTERM sent) to "inactive" (exited), as systemd timed it.
elapsed=$(( ($(show InactiveEnterTimestampMonotonic) - $(show ActiveExitTimestampMonotonic)) / 1000 ))
[ "$(show Result)" = success ] || fail "stop did not end cleanly: Result=$(show Result)"
[ "$elapsed" -lt 1000 ] || fail "stopping took $elapsed ms"
echo "systemctl stop: stopped in $elapsed ms, Result=success"

echo "== security score"
offline=$(systemd-analyze security --offline=true systemd/kata-pulse.service 2>&1 |
    sed -n 's/.*Overall exposure level for kata-pulse.service: \([0-9.]*\).*/\1/p')
inside=$(inside systemd-analyze security kata-pulse.service --no-pager 2>&1 |
    sed -n 's/.*Overall exposure level for kata-pulse.service: \([0-9.]*\).*/\1/p')
[ -n "$inside" ] && [ "$inside" = "$offline" ] || fail "security exposure $inside in the container, $offline offline"
echo "systemd-analyze security: $inside in the container, $offline offline"

echo "== upgrade"
http /healthz >/dev/null  # the socket starts it again
before=$(show InvocationID)
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: $version+e2e1/" "$work/next/DEBIAN/control"
dpkg-deb -b "$work/next" "$root/var/tmp/kata-pulse-next.deb" >/dev/null
inside apt-get install -y -q /var/tmp/kata-pulse-next.deb >"$work/apt-upgrade.log" 2>&1 ||
    { cat "$work/apt-upgrade.log"; fail "upgrade failed"; }
[ "$(inside dpkg-query -W -f '${Version}' kata-pulse)" = "$version+e2e1" ] || fail "upgrade not installed"
[ "$(show ActiveState)" = active ] && [ "$(show InvocationID)" != "$before" ] || {
    cat "$work/apt-upgrade.log"; inside journalctl -u kata-pulse.service --no-pager -n 15
    fail "the upgrade did not restart the service (before $before, now $(show InvocationID) $(show ActiveState))"
}
inside systemctl is-active -q kata-pulse.socket || fail "socket inactive after the upgrade"
echo "upgrade to $version+e2e1 restarted the service"

echo "== purge"
inside apt-get purge -y -q kata-pulse >"$work/apt-purge.log" 2>&1 || { cat "$work/apt-purge.log"; fail "purge failed"; }
! inside systemctl is-active -q kata-pulse.socket || fail "socket still active after purge"
! inside systemctl is-active -q kata-pulse.service || fail "service still active after purge"
for path in /etc/default/kata-pulse /usr/bin/kata-pulse /lib/systemd/system/kata-pulse.service \
    /lib/systemd/system/kata-pulse.socket /etc/systemd/system/sockets.target.wants/kata-pulse.socket \
    /var/lib/prometheus/node-exporter/kata-pulse.prom /usr/share/doc/kata-pulse /usr/share/kata-pulse; do
    [ ! -e "$root$path" ] && [ ! -L "$root$path" ] || fail "$path left after purge"
done
! inside dpkg-query -W kata-pulse >/dev/null 2>&1 || fail "dpkg still knows kata-pulse"
echo "purge stopped and removed everything, conffile and textfile snapshot included"
echo "debian-package: ok"
