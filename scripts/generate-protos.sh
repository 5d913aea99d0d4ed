#!/usr/bin/env bash
# Regenerates the committed Swift code of the protobuf targets from Protos/: the Kubernetes CRI
# (Sources/CRIRuntimeV1, from the vendored, trimmed Protos/runtime/v1/api.proto, with its gRPC client) and
# Prometheus remote write (Sources/PrometheusRemoteWrite, from Protos/prometheus/remote.proto). Uses Debian's
# protoc (apt-get install protobuf-compiler) and the protoc plugins of the swift-protobuf and
# grpc-swift-protobuf versions the package resolves, built here, so the output matches the runtime library it
# is compiled against. Running it on an unchanged tree changes no file.
#   usage: scripts/generate-protos.sh        (env SCRATCH_PATH: SwiftPM build folder, default .build)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
    echo "generate-protos.sh: protoc not found; install it with: apt-get install protobuf-compiler" >&2
    exit 1
fi
scratch=${SCRATCH_PATH:-.build}

swift build --scratch-path "$scratch" --product protoc-gen-swift
swift build --scratch-path "$scratch" --product protoc-gen-grpc-swift-2
bin=$(swift build --scratch-path "$scratch" --show-bin-path)

# Generates one target's code into a fresh folder, then replaces the committed files, so that a failed run
# leaves them as they were. With `grpc`, the gRPC client and server stubs too.
#   generate OUTPUT_FOLDER PROTO [grpc]
generate() {
    local out=$1 proto=$2 tmp
    tmp=$(mktemp -d)
    local grpc=()
    if [ "${3:-}" = grpc ]; then
        grpc=(
            --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2"
            --grpc-swift_out="$tmp"
            --grpc-swift_opt=Visibility=Public,FileNaming=DropPath,Client=true,Server=true
        )
    fi
    protoc \
        --proto_path=Protos \
        --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
        --swift_out="$tmp" \
        --swift_opt=Visibility=Public,FileNaming=DropPath \
        "${grpc[@]}" "$proto"
    rm -f "$out"/*.swift
    cp "$tmp"/*.swift "$out"/
    rm -rf "$tmp"
    echo "generated: $(cd "$out" && ls *.swift | tr '\n' ' ')"
}

generate Sources/CRIRuntimeV1 runtime/v1/api.proto grpc
generate Sources/PrometheusRemoteWrite prometheus/remote.proto
