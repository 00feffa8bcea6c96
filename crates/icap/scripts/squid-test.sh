#!/usr/bin/env bash
# Runs the real-Squid end-to-end test of the icap crate.
# Installs squid and curl from Debian's packages when missing (needs root or sudo-less root CI).
# Usage: scripts/squid-test.sh   (from anywhere; honours CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v squid >/dev/null 2>&1 || [ -x /usr/sbin/squid ] || need+=(squid)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Debian package may start a system squid on port 3128; the test uses its own
# instance on a free loopback port, so the service is left alone.
cargo test -q --test squid -- --nocapture
