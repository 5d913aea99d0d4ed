#!/usr/bin/env bash
# Builds the release binary the package and the image ship (Swift standard library linked statically, so the
# host needs no Swift runtime) and prints its path. With KATA_PULSE_BINARY set, prints that instead (a binary
# already built with these flags, for repackaging).
#   scripts/release-binary.sh --version   prints the version instead (Sources/KataPulse/Version.swift, the
#                                         one `kata-pulse --version` reports)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --version ]; then
    version=$(sed -n 's/.*static let string = "\([^"]*\)".*/\1/p' Sources/KataPulse/Version.swift)
    [ -n "$version" ] || { echo "release-binary.sh: no version in Sources/KataPulse/Version.swift" >&2; exit 1; }
    echo "$version"
    exit 0
fi
if [ -n "${KATA_PULSE_BINARY:-}" ]; then
    echo "$KATA_PULSE_BINARY"
    exit 0
fi
flags=(-c release --static-swift-stdlib)
swift build "${flags[@]}" --product kata-pulse >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/kata-pulse"
