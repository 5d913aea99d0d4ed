#!/usr/bin/env python3
"""Runs the pod of a rendered DaemonSet on a real container runtime over CRI, as the kubelet would: a pod
sandbox on the host network, then its first container with the manifest's image, args, environment (env
with the node's name for spec.nodeName and $(VAR) references expanded, envFrom ConfigMaps found among the
rendered documents), hostPath mounts (read-only as declared), Secret volumes from directories given here,
read-only root filesystem, user, dropped capabilities and seccomp profile. Prints the container id. Needs
PyPI's grpcio, container-runtime-interface-api and PyYAML.

usage: run-daemonset.py SOCKET RENDERED.yaml IMAGE [--listen ADDRESS] [--pod NAME] [--node NAME]
                        [--secret NAME=DIR]...
  IMAGE replaces the manifest's image reference; --listen replaces the port in --listen-address (the pod
  shares the host's network here, so the test picks a free port); --pod names the pod (one per run); --secret
  stands a directory in for a Secret (an optional Secret not given is left out, as the kubelet does when the
  Secret does not exist).
"""
import argparse, sys
import grpc, yaml
from cri_api.v1 import api_pb2 as cri, api_pb2_grpc as cri_grpc

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket"); parser.add_argument("manifests"); parser.add_argument("image")
    parser.add_argument("--listen")
    parser.add_argument("--pod", default="kata-pulse-e2e")
    parser.add_argument("--node", default="kata-node-e2e")
    parser.add_argument("--secret", action="append", default=[])
    args = parser.parse_args()
    secrets = dict(s.split("=", 1) for s in args.secret)
    documents = [d for d in yaml.safe_load_all(open(args.manifests)) if d]
    daemonset = next(d for d in documents if d["kind"] == "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    for v in pod["volumes"]:
        if "secret" in v and v["secret"]["secretName"] in secrets:
            volumes[v["name"]] = secrets[v["secret"]["secretName"]]
        elif "secret" in v:
            assert v["secret"].get("optional"), f"Secret {v['secret']['secretName']} is not given"
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in documents if d["kind"] == "ConfigMap"}
    environment = {}
    for source in container.get("envFrom", []):
        environment.update(config_maps[source["configMapRef"]["name"]])
    for e in container.get("env", []):
        if "valueFrom" in e:
            assert e["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}, e
            value = args.node
        else:
            value = str(e["value"])
        # The kubelet expands $(NAME) with the variables defined before it.
        for name, known in environment.items():
            value = value.replace(f"$({name})", known)
        environment[e["name"]] = value
    pod_security = pod.get("securityContext", {})
    security = container.get("securityContext", {})

    channel = grpc.insecure_channel("unix://" + args.socket)
    runtime = cri_grpc.RuntimeServiceStub(channel)
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    sandbox_config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=args.pod, namespace="kube-system", uid=args.pod + "-uid"),
        labels=labels,
        linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
            namespace_options=cri.NamespaceOption(network=cri.NODE, pid=cri.CONTAINER, ipc=cri.POD),
            seccomp=cri.SecurityProfile(profile_type=cri.SecurityProfile.RuntimeDefault))))
    sandbox_id = runtime.RunPodSandbox(cri.RunPodSandboxRequest(config=sandbox_config), timeout=60).pod_sandbox_id

    command_args = list(container.get("args", []))
    if args.listen:
        command_args = [f"--listen-address={args.listen}" if a.startswith("--listen-address=") else a
                        for a in command_args]
    assert security.get("capabilities", {}).get("drop") == ["ALL"], "the manifest must drop every capability"
    assert not security.get("capabilities", {}).get("add"), "the manifest adds capabilities"
    seccomp = pod_security.get("seccompProfile", {}).get("type")
    assert seccomp == "RuntimeDefault", seccomp
    config = cri.ContainerConfig(
        metadata=cri.ContainerMetadata(name=container["name"]),
        image=cri.ImageSpec(image=args.image),
        args=command_args,
        envs=[cri.KeyValue(key=name, value=value) for name, value in environment.items()],
        mounts=[cri.Mount(container_path=m["mountPath"], host_path=volumes[m["name"]],
                          readonly=bool(m.get("readOnly")),
                          propagation=cri.PROPAGATION_PRIVATE)
                for m in container.get("volumeMounts", []) if m["name"] in volumes],
        linux=cri.LinuxContainerConfig(security_context=cri.LinuxContainerSecurityContext(
            readonly_rootfs=bool(security.get("readOnlyRootFilesystem")),
            run_as_user=cri.Int64Value(value=int(pod_security.get("runAsUser", 0))),
            no_new_privs=not security.get("allowPrivilegeEscalation", True),
            privileged=bool(security.get("privileged")),
            capabilities=cri.Capability(drop_capabilities=["ALL"]),
            seccomp=cri.SecurityProfile(profile_type=cri.SecurityProfile.RuntimeDefault),
            namespace_options=cri.NamespaceOption(network=cri.NODE, pid=cri.CONTAINER, ipc=cri.POD))))
    container_id = runtime.CreateContainer(cri.CreateContainerRequest(
        pod_sandbox_id=sandbox_id, config=config, sandbox_config=sandbox_config), timeout=60).container_id
    runtime.StartContainer(cri.StartContainerRequest(container_id=container_id), timeout=60)
    print(container_id)

if __name__ == "__main__":
    sys.exit(main())
