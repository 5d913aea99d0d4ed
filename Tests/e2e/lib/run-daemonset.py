#!/usr/bin/env python3
"""Runs the pod of a rendered DaemonSet on a real container runtime over CRI, as the kubelet would: a pod
sandbox on the host network, then its first container with the manifest's image, args, environment,
hostPath mounts (read-only as declared), read-only root filesystem, user, dropped capabilities and seccomp
profile. Prints the container id. Needs PyPI's grpcio, container-runtime-interface-api and PyYAML.

usage: run-daemonset.py SOCKET RENDERED.yaml IMAGE [--listen ADDRESS]
  IMAGE replaces the manifest's image reference; --listen replaces the port in --listen-address (the pod
  shares the host's network here, so the test picks a free port).
"""
import argparse, sys
import grpc, yaml
from cri_api.v1 import api_pb2 as cri, api_pb2_grpc as cri_grpc

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket"); parser.add_argument("manifests"); parser.add_argument("image")
    parser.add_argument("--listen")
    args = parser.parse_args()
    documents = [d for d in yaml.safe_load_all(open(args.manifests)) if d]
    daemonset = next(d for d in documents if d["kind"] == "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    pod_security = pod.get("securityContext", {})
    security = container.get("securityContext", {})

    channel = grpc.insecure_channel("unix://" + args.socket)
    runtime = cri_grpc.RuntimeServiceStub(channel)
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    sandbox_config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name="kata-pulse-e2e", namespace="kube-system", uid="kata-pulse-e2e-uid"),
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
        envs=[cri.KeyValue(key=e["name"], value=str(e["value"])) for e in container.get("env", [])],
        mounts=[cri.Mount(container_path=m["mountPath"], host_path=volumes[m["name"]],
                          readonly=bool(m.get("readOnly")),
                          propagation=cri.PROPAGATION_PRIVATE) for m in container.get("volumeMounts", [])],
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
