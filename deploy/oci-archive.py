#!/usr/bin/env python3
"""Writes a single-layer OCI image archive (oci-layout, index.json, blobs/) from a root filesystem folder,
without a container engine. The result loads with `ctr images import`, `skopeo copy oci-archive:…` or
`podman load`. The layer is reproducible: entries sorted, times from SOURCE_DATE_EPOCH (default 0).

usage: oci-archive.py --rootfs DIR --name REF --output OUT.tar [--entrypoint JSON] [--cmd JSON]
                      [--env K=V]... [--user UID[:GID]] [--workdir DIR] [--expose PORT/PROTO]...
                      [--label K=V]... [--architecture amd64]
"""
import argparse, gzip, hashlib, io, json, os, stat, sys, tarfile

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rootfs", required=True)
    parser.add_argument("--name", required=True, help="image reference, e.g. localhost/kata-pulse:0.1.0")
    parser.add_argument("--output", required=True)
    parser.add_argument("--entrypoint", type=json.loads)
    parser.add_argument("--cmd", type=json.loads)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--user")
    parser.add_argument("--workdir", default="/")
    parser.add_argument("--expose", action="append", default=[])
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--architecture", default="amd64")
    args = parser.parse_args()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    layer_tar = layer(args.rootfs, epoch)
    layer_gz = gzip.compress(layer_tar, compresslevel=9, mtime=epoch)
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layer_descriptor = blob(layer_gz, "application/vnd.oci.image.layer.v1.tar+gzip")
    config = {"WorkingDir": args.workdir}
    if args.entrypoint is not None: config["Entrypoint"] = args.entrypoint
    if args.cmd is not None: config["Cmd"] = args.cmd
    if args.env: config["Env"] = args.env
    if args.user: config["User"] = args.user
    if args.expose: config["ExposedPorts"] = {port: {} for port in args.expose}
    if args.label: config["Labels"] = dict(item.split("=", 1) for item in args.label)
    created = __import__("datetime").datetime.fromtimestamp(epoch, __import__("datetime").timezone.utc)
    image_config = {
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": args.architecture, "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
        "history": [{"created": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "created_by": "deploy/oci-archive.py"}],
    }
    config_descriptor = blob(canonical(image_config), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor, "layers": [layer_descriptor],
    }
    manifest_descriptor = blob(canonical(manifest), "application/vnd.oci.image.manifest.v1+json")
    # containerd reads the full reference from its own annotation; the OCI one carries the tag.
    manifest_descriptor["annotations"] = {
        "io.containerd.image.name": args.name,
        "org.opencontainers.image.ref.name": args.name.rsplit(":", 1)[-1] if ":" in args.name.rsplit("/", 1)[-1] else "latest",
    }
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_descriptor]}
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", canonical(index))]
    files += [("blobs/sha256/" + digest.split(":")[1], data) for digest, data in sorted(blobs.items())]
    with open(args.output, "wb") as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory); info.type = tarfile.DIRTYPE; info.mode = 0o755; info.mtime = epoch
            archive.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644; info.mtime = epoch
            archive.addfile(info, io.BytesIO(data))
    print(f"{args.output} {manifest_descriptor['digest']} ({len(layer_gz)} bytes compressed layer)")

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

def layer(rootfs, epoch):
    """The root filesystem as an uncompressed tar: sorted, numeric owners kept, times set to `epoch`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory, subdirectories, names in os.walk(rootfs):
            subdirectories.sort()
            for name in sorted(subdirectories + names):
                path = os.path.join(directory, name)
                arcname = os.path.relpath(path, rootfs)
                info = archive.gettarinfo(path, arcname)
                info.mtime = epoch
                info.uname = info.gname = ""
                if info.isreg():
                    with open(path, "rb") as data:
                        archive.addfile(info, data)
                else:
                    archive.addfile(info)
    return buffer.getvalue()

if __name__ == "__main__":
    sys.exit(main())
