#!/usr/bin/env bash
# Coverage-guided fuzzing of the core library (libFuzzer + AddressSanitizer): builds the fuzz package in
# Fuzz/ and runs a target over a copy of its seed corpus.
#
#   scripts/fuzz.sh TARGET [SECONDS] [LIBFUZZER_FLAG...]
#   scripts/fuzz.sh all [SECONDS]                          every target, one after the other (CI: all 30)
#
# TARGET is a folder of Fuzz/Corpus/ (exposition, request, …), run by the executable Fuzz<Target> (web-config
# → FuzzWebConfig); Fuzz/Dictionaries/TARGET.dict is passed with -dict when it exists. SECONDS (default 60)
# is libFuzzer's -max_total_time; further flags go to libFuzzer as they are (e.g. -fork=2 to use two cores, -max_len=4096); 0 seconds runs until a failure.
#
# The committed corpus is never written: the run works on a copy (in a temporary directory, or in
# $FUZZ_WORK_DIR/TARGET when set, which then keeps what a run found for the next one). A crash, a timeout
# (10 s for one input) or running out of memory (2 GiB) stops the target, leaves the input in
# Fuzz/.build/artifacts/TARGET/ and makes the script exit 1 once every target has run; the output says where
# the input is and how to replay it. The build (release, instrumented, -enable-testing for the targets'
# @testable imports) lives in Fuzz/.build; FUZZ_CONFIGURATION=debug builds unoptimized instead (quicker to
# build, slower to run: what CI's short runs use).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/fuzz.sh TARGET|all [SECONDS] [LIBFUZZER_FLAG...]" >&2
    echo "targets: $(targets | tr '\n' ' ')" >&2
    exit 2
}

targets() {
    for directory in Fuzz/Corpus/*/; do basename "$directory"; done
}

# exposition → FuzzExposition, web-config → FuzzWebConfig.
product() {
    echo "Fuzz$(echo "$1" | sed -E 's/(^|-)([a-z])/\U\2/g')"
}

[ $# -ge 1 ] || usage
target=$1
seconds=${2:-60}
shift $(($# >= 2 ? 2 : 1))
[[ $seconds =~ ^[0-9]+$ ]] || usage
if [ "$target" = all ]; then
    mapfile -t selected < <(targets)
elif [ -d "Fuzz/Corpus/$target" ]; then
    selected=("$target")
else
    usage
fi

# SwiftPM's --sanitize fuzzer makes it link libFuzzer's main (instead of main.swift's) and build executables as
# libraries; the driver passes the frontend only the last -sanitize= flag, so the combined flag comes last, for
# every Swift module (KataPulse and its dependencies are instrumented too). One build for every target: the
# fuzz package's targets need only the KataPulse library (no gRPC, CRI or BoringSSL), and a build per
# --product was planned anew each time (SwiftPM 6.3.1), compiling everything again (about 3 minutes each).
build=(swift build --package-path Fuzz --scratch-path Fuzz/.build -c "${FUZZ_CONFIGURATION:-release}"
    --sanitize fuzzer --sanitize address -Xswiftc "-sanitize=fuzzer,address" -Xswiftc -enable-testing)
echo "fuzz: building $(targets | while read -r name; do product "$name"; done | tr '\n' ' ')[${SECONDS}s]"
"${build[@]}"
binaries=$("${build[@]}" --show-bin-path)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for name in "${selected[@]}"; do
    binary="$binaries/$(product "$name")"
    corpus=${FUZZ_WORK_DIR:+$FUZZ_WORK_DIR/$name}
    corpus=${corpus:-$scratch/$name}
    mkdir -p "$corpus"
    cp -R "Fuzz/Corpus/$name/." "$corpus/"
    artifacts="$PWD/Fuzz/.build/artifacts/$name"
    mkdir -p "$artifacts"
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
    if [ -f "Fuzz/Dictionaries/$name.dict" ]; then flags+=(-dict="Fuzz/Dictionaries/$name.dict"); fi
    echo "fuzz: $name for ${seconds}s, corpus $corpus ($(find "$corpus" -type f | wc -l) inputs) [${SECONDS}s]"
    log="$scratch/$name.log"
    status=0
    # The Swift runtime's backtracer would wait on a crashed process that libFuzzer has already reported; leaks
    # from the targets' one-time set-up are suppressed (Fuzz/LeakSuppressions.txt).
    SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$PWD/Fuzz/LeakSuppressions.txt:print_suppressions=0" \
        "$binary" "${flags[@]}" "$@" "$corpus" 2>&1 | tee "$log" || status=$?
    if [ "$status" -ne 0 ]; then
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "fuzz: $name FAILED (status $status): input ${input:-not written}" >&2
        [ -z "$input" ] || echo "fuzz: replay with: SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$PWD/Fuzz/LeakSuppressions.txt $binary $input" >&2
        failed+=("$name")
    else
        echo "fuzz: $name passed: $(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)," \
            "$(grep -Eo 'stat::number_of_executed_units: +[0-9]+' "$log" | grep -Eo '[0-9]+$') runs," \
            "$(grep -Eo 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -Eo '[0-9]+$') exec/s [${SECONDS}s]"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
