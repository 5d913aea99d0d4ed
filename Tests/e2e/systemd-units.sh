#!/usr/bin/env bash
# The unit files: `systemd-analyze verify` prints nothing for both (run with the built binary at
# /usr/bin/kata-pulse through an overlay in a private mount namespace, so the host is not touched), and
# `systemd-analyze security --offline=true` rates the service's exposure at 2.0 or better.
source "$(dirname "$0")/lib/common.bash"
mkdir -p "$work/upper" "$work/work"
cp "$bin" "$work/upper/kata-pulse"  # whatever KATA_PULSE_BINARY's file is called
out=$(unshare --mount bash -c "mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$work/upper,workdir=$work/work /usr/bin \
    && systemd-analyze verify systemd/kata-pulse.socket systemd/kata-pulse.service" 2>&1) ||
    fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify:"; echo "$out"; exit 1; }
echo "systemd-analyze verify: clean"

score=$(systemd-analyze security --offline=true systemd/kata-pulse.service 2>&1 | sed -n 's/.*Overall exposure level for kata-pulse.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $score"
python3 -c "import sys; sys.exit(0 if float('$score') <= 2.0 else 1)" || { echo "FAIL: exposure $score > 2.0"; exit 1; }
echo "systemd-units: ok"
