# A real containerd (Debian's) with its CRI plugin for the end-to-end scripts (sourced after common.bash):
# everything under $work, a "kata" runtime handler backed by runc, a locally built pause image (no registry),
# and `cri`, a CRI client (PyPI's grpcio and container-runtime-interface-api, in a venv made once).
# Provides start_containerd (again after a kill: same state), $containerd_pid, and a clean-up that removes
# the pod sandboxes, ends the shims of this run and unmounts what they left.
venv=${KP_E2E_VENV:-/tmp/kp-e2e-venv}

if ! "$venv/bin/python" -c 'import grpc, cri_api.v1' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet grpcio container-runtime-interface-api
fi
# cri ARGS…: the CRI client on this containerd; the ids of pod sandboxes it runs are remembered for clean-up.
cri() {
    if [ "$1" = run ]; then
        local id
        id=$("$venv/bin/python" Tests/e2e/lib/cri-pods.py "$work/c.sock" "$@") || return
        track_cri_id "$id"
        echo "$id"
    else
        "$venv/bin/python" Tests/e2e/lib/cri-pods.py "$work/c.sock" "$@"
    fi
}
# track_cri_id ID: a pod sandbox or container id whose processes the clean-up ends if containerd cannot.
track_cri_id() { echo "$1" >>"$work/cri-ids"; }

# containerd with everything under $work; a "kata" handler that is runc underneath.
mkdir -p "$work/cni" "$work/pause-root"
echo '{"cniVersion":"0.4.0","name":"lo","plugins":[{"type":"loopback"}]}' >"$work/cni/10-lo.conflist"
cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$work/c.sock"
[ttrpc]
  address = "$work/c.sock.ttrpc"
[debug]
  address = "$work/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/kata-pulse-e2e/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
      runtime_type = "io.containerd.runc.v2"
TOML

containerd_pid=
# start_containerd: starts it (a killed one leaves its socket behind) and waits until CRI reports ready.
start_containerd() {
    rm -f "$work/c.sock"
    containerd --config "$work/containerd.toml" >>"$work/containerd.log" 2>&1 &
    containerd_pid=$!
    poll test -S "$work/c.sock" || fail "containerd did not start: $(tail -5 "$work/containerd.log")"
    poll cri ready || fail "containerd's CRI is not ready: $(tail -5 "$work/containerd.log")"
}
cri_cleanup() {
    if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
        cri remove-all >/dev/null 2>&1 || true
        kill "$containerd_pid" 2>/dev/null || true
        WAIT_SECONDS=5 poll process_gone "$containerd_pid" || true
    fi
    # Shims outlive containerd (they re-parent to PID 1): end only those serving this run's socket.
    pkill -9 -f "containerd-shim-runc-v2 .*-address $work/c.sock" 2>/dev/null || true
    # and the processes of this run's pods and containers (their cgroups are named after their ids) when
    # containerd could not remove them (killed by the test).
    if [ -s "$work/cri-ids" ]; then
        for proc in /proc/[0-9]*; do
            grep -qFf "$work/cri-ids" "$proc/cgroup" 2>/dev/null && kill -9 "${proc#/proc/}" 2>/dev/null || true
        done
    fi
    grep -o " ${work}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    e2e_cleanup
}
trap cri_cleanup EXIT
start_containerd

# The pause image: a static binary that sleeps in pause(2), packed as an OCI archive by the project's writer.
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >"$work/pause.c"
gcc -static -Os -s -o "$work/pause-root/pause" "$work/pause.c"
python3 deploy/oci-archive.py --rootfs "$work/pause-root" --name localhost/kata-pulse-e2e/pause:1 \
    --entrypoint '["/pause"]' --output "$work/pause.tar" >/dev/null
ctr --address "$work/c.sock" -n k8s.io images import "$work/pause.tar" >/dev/null

# start_app_container POD_ID POD NAMESPACE UID: builds (once) and imports the "app" image, a static program
# that touches 48 MiB and then works 50 ms out of every 250 (about 0.2 cores), starts it as container "app"
# in the pod as the kubelet would, and prints the container id.
start_app_container() {
    if [ ! -e "$work/app.tar" ]; then
        mkdir -p "$work/app-root"
        cat >"$work/app.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <time.h>
int main(void) {
    size_t size = 48u << 20;
    char *memory = malloc(size);
    memset(memory, 1, size);
    for (;;) {
        struct timespec start, now, rest = {0, 200000000};
        clock_gettime(CLOCK_MONOTONIC, &start);
        do { clock_gettime(CLOCK_MONOTONIC, &now); memory[now.tv_nsec % size]++; }
        while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 50000000L);
        nanosleep(&rest, NULL);
    }
}
C
        gcc -static -O1 -s -o "$work/app-root/app" "$work/app.c"
        python3 deploy/oci-archive.py --rootfs "$work/app-root" --name localhost/kata-pulse-e2e/app:1 \
            --entrypoint '["/app"]' --output "$work/app.tar" >/dev/null
        ctr --address "$work/c.sock" -n k8s.io images import "$work/app.tar" >/dev/null
    fi
    local id
    id=$(cri container "$1" "$2" "$3" "$4" app localhost/kata-pulse-e2e/app:1) || return
    track_cri_id "$id"
    echo "$id"
}
