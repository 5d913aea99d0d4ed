#!/usr/bin/env bash
# Builds the KataPulse container image as an OCI archive without a container engine: the release binary
# (Swift standard library linked statically, stripped) on a minimal Debian bookworm root filesystem made by
# debootstrap, packed by deploy/oci-archive.py. The same image deploy/Dockerfile builds with Docker.
# Prints the archive's path. Needs root and debootstrap.
#   deploy/build-image.sh [OUT_DIR]     (default: out/; env IMAGE: the reference, default
#                                        localhost/kata-pulse:<version>; env KP_IMAGE_ROOTFS: a tarball
#                                        caching the bare debootstrap root; KATA_PULSE_BINARY: use this binary)
#   then: ctr -n k8s.io images import out/kata-pulse-<version>.oci.tar
#     or: skopeo copy oci-archive:out/kata-pulse-<version>.oci.tar docker://registry.example/kata-pulse:<version>
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-out}")
version=$(scripts/release-binary.sh --version)
image=${IMAGE:-localhost/kata-pulse:$version}
binary=$(scripts/release-binary.sh)

stage=$(mktemp -d "${TMPDIR:-/var/tmp}/kata-pulse-image-XXXXXX")
trap 'rm -rf "$stage"' EXIT
rootfs="$stage/rootfs"
mkdir -p "$rootfs"
cache=${KP_IMAGE_ROOTFS:-}
if [ -n "$cache" ] && [ -f "$cache" ]; then
    tar -C "$rootfs" -xf "$cache"
else
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    # libyaml-0-2: the web configuration's parser; libsnappy1v5: remote write's compression; ca-certificates:
    # the CAs https:// receivers are verified against; minbase has the other libraries the binary links.
    debootstrap --variant=minbase --include=libyaml-0-2,libsnappy1v5,ca-certificates bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$stage/debootstrap.log" 2>&1 ||
        { tail -20 "$stage/debootstrap.log" >&2; exit 1; }
    [ -n "$cache" ] && tar -C "$rootfs" -cf "$cache" .
fi
# What a runtime image does not need: package caches, documentation, locales.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/* "$rootfs"/usr/share/locale/*
strip --strip-unneeded -o "$rootfs/usr/bin/kata-pulse" "$binary"
# Running it with the root filesystem's loader and libraries only proves every library it links is there
# (minbase has libsystemd0, zlib1g, libcrypt1, libstdc++6 and libgcc-s1; libyaml-0-2 and libsnappy1v5 are
# included above). Not chroot: without /proc there, Swift would
# see no command-line arguments.
libs="$rootfs/lib/x86_64-linux-gnu:$rootfs/usr/lib/x86_64-linux-gnu"
[ "$(timeout 10 "$rootfs/lib64/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$libs" \
    "$rootfs/usr/bin/kata-pulse" --version)" = "$version" ] ||
    { echo "build-image.sh: the binary does not run with the image's libraries" >&2; exit 1; }

mkdir -p "$out"
archive="$out/kata-pulse-$version.oci.tar"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
SOURCE_DATE_EPOCH=$epoch python3 deploy/oci-archive.py --rootfs "$rootfs" --name "$image" --output "$archive" \
    --entrypoint '["/usr/bin/kata-pulse"]' --cmd '["--listen-address=0.0.0.0:8090"]' --user 0:0 \
    --expose 8090/tcp --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.title=kata-pulse" \
    --label "org.opencontainers.image.source=https://github.com/kata-pulse/kata-pulse" >&2
echo "$archive"
