#!/usr/bin/env python3
"""Runs, lists and removes pod sandboxes over CRI runtime.v1, as the kubelet would, for the end-to-end
scripts. Needs PyPI's grpcio and container-runtime-interface-api.

usage: cri-pods.py SOCKET run NAME NAMESPACE UID HANDLER   -> prints the sandbox id
       cri-pods.py SOCKET container POD_ID NAME NAMESPACE UID CONTAINER IMAGE
                                                           -> creates and starts a container in the pod
                                                              (as the kubelet would); prints its id
       cri-pods.py SOCKET stats CONTAINER_ID               -> the runtime's own ContainerStats reading:
                                                              cpu_ns working_set_bytes
       cri-pods.py SOCKET ready                            -> exit 0 once the runtime reports RuntimeReady
       cri-pods.py SOCKET list                             -> one line per sandbox: id namespace/name uid handler
       cri-pods.py SOCKET remove-all                       -> stops and removes every sandbox
"""
import sys
import grpc
from cri_api.v1 import api_pb2 as cri, api_pb2_grpc as cri_grpc

def pod_config(name, namespace, uid):
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, namespace=namespace, uid=uid, attempt=0),
        labels={"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace},
        # Host network: no CNI subnet is needed, and with it the hostname must stay unset.
        linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
            namespace_options=cri.NamespaceOption(network=cri.NODE, pid=cri.POD, ipc=cri.POD))))

def main():
    socket, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    runtime = cri_grpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + socket))
    if command == "run":
        name, namespace, uid, handler = args
        config = pod_config(name, namespace, uid)
        response = runtime.RunPodSandbox(cri.RunPodSandboxRequest(config=config, runtime_handler=handler), timeout=60)
        print(response.pod_sandbox_id)
    elif command == "container":
        pod_id, name, namespace, uid, container, image = args
        config = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name=container, attempt=0),
            image=cri.ImageSpec(image=image),
            labels={"io.kubernetes.container.name": container, "io.kubernetes.pod.name": name,
                    "io.kubernetes.pod.namespace": namespace, "io.kubernetes.pod.uid": uid},
            linux=cri.LinuxContainerConfig(security_context=cri.LinuxContainerSecurityContext(
                namespace_options=cri.NamespaceOption(network=cri.NODE, pid=cri.CONTAINER, ipc=cri.POD))))
        created = runtime.CreateContainer(cri.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=config, sandbox_config=pod_config(name, namespace, uid)), timeout=60)
        runtime.StartContainer(cri.StartContainerRequest(container_id=created.container_id), timeout=60)
        print(created.container_id)
    elif command == "stats":
        (container_id,) = args
        stats = runtime.ContainerStats(cri.ContainerStatsRequest(container_id=container_id), timeout=10).stats
        print(stats.cpu.usage_core_nano_seconds.value, stats.memory.working_set_bytes.value)
    elif command == "ready":
        status = runtime.Status(cri.StatusRequest(), timeout=5)
        ready = any(c.type == "RuntimeReady" and c.status for c in status.status.conditions)
        sys.exit(0 if ready else 1)
    elif command == "list":
        for pod in runtime.ListPodSandbox(cri.ListPodSandboxRequest(), timeout=10).items:
            print(pod.id, f"{pod.metadata.namespace}/{pod.metadata.name}", pod.metadata.uid, pod.runtime_handler)
    elif command == "remove-all":
        for container in runtime.ListContainers(cri.ListContainersRequest(), timeout=10).containers:
            runtime.StopContainer(cri.StopContainerRequest(container_id=container.id, timeout=1), timeout=60)
            runtime.RemoveContainer(cri.RemoveContainerRequest(container_id=container.id), timeout=60)
        for pod in runtime.ListPodSandbox(cri.ListPodSandboxRequest(), timeout=10).items:
            runtime.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=pod.id), timeout=60)
            runtime.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=pod.id), timeout=60)
    else:
        sys.exit(f"unknown command {command}")

if __name__ == "__main__":
    main()
