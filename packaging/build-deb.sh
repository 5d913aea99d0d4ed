#!/usr/bin/env bash
# Builds the kata-pulse Debian package: a release binary with the Swift standard library linked statically
# (the package needs no Swift runtime), stripped, packaged by dpkg-buildpackage from packaging/debian.
# Prints the path of the .deb. Needs: apt-get install debhelper dpkg-dev (and lintian to check it).
#   packaging/build-deb.sh [OUT_DIR]        (default: out/; env KATA_PULSE_BINARY: package this binary instead)
# Binary and version come from scripts/release-binary.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-out}")

version=$(scripts/release-binary.sh --version)
binary=$(scripts/release-binary.sh)
reported=$("$binary" --version)
[ "$reported" = "$version" ] || { echo "build-deb.sh: binary says $reported, Version.swift $version" >&2; exit 1; }

# dpkg-buildpackage works on a source tree with debian/ at its top: assemble one in a scratch folder.
stage=$(mktemp -d "${TMPDIR:-/tmp}/kata-pulse-deb-XXXXXX")
trap 'rm -rf "$stage"' EXIT
src="$stage/kata-pulse-$version"
mkdir -p "$src/build"
cp -r packaging/debian "$src/debian"
cp systemd/kata-pulse.service systemd/kata-pulse.socket "$src/debian/"
cp README.md LICENSE "$src/"
cp -r monitoring "$src/"
strip --strip-unneeded -o "$src/build/kata-pulse" "$binary"

# The changelog is generated: its version is the binary's, its date the commit's (reproducible builds).
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
cat >"$src/debian/changelog" <<CHANGELOG
kata-pulse ($version) unstable; urgency=medium

  * KataPulse $version, built from commit $commit.

 -- $(sed -n 's/^Maintainer: //p' packaging/debian/control)  $(date -u -R -d "@$epoch")
CHANGELOG

(cd "$src" && SOURCE_DATE_EPOCH=$epoch dpkg-buildpackage -us -uc -b >&2)
mkdir -p "$out"
deb="kata-pulse_${version}_$(dpkg --print-architecture).deb"
mv "$stage/$deb" "$out/"
echo "$out/$deb"
