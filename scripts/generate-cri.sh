#!/usr/bin/env bash
# Regenerates the committed Swift code for the Kubernetes CRI (Sources/CRIRuntimeV1) from the vendored, trimmed
# Protos/runtime/v1/api.proto. Uses Debian's protoc (apt-get install protobuf-compiler) and the protoc plugins of
# the swift-protobuf and grpc-swift-protobuf versions the package resolves, built here, so the output matches the
# runtime library it is compiled against. Running it on an unchanged tree changes no file.
#   usage: scripts/generate-cri.sh        (env SCRATCH_PATH: SwiftPM build folder, default .build)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
    echo "generate-cri.sh: protoc not found; install it with: apt-get install protobuf-compiler" >&2
    exit 1
fi
scratch=${SCRATCH_PATH:-.build}
out=Sources/CRIRuntimeV1

swift build --scratch-path "$scratch" --product protoc-gen-swift
swift build --scratch-path "$scratch" --product protoc-gen-grpc-swift-2
bin=$(swift build --scratch-path "$scratch" --show-bin-path)

# Generate into a fresh folder, then replace the committed files, so a failed run leaves them as they were.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc \
    --proto_path=Protos \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$tmp" \
    --swift_opt=Visibility=Public,FileNaming=DropPath \
    --grpc-swift_out="$tmp" \
    --grpc-swift_opt=Visibility=Public,FileNaming=DropPath,Client=true,Server=true \
    runtime/v1/api.proto
rm -f "$out"/*.swift
cp "$tmp"/*.swift "$out"/
echo "generated: $(cd "$out" && ls *.swift | tr '\n' ' ')"
