#!/usr/bin/env bash
# The long run of the impact analysis's simulation harness, and the speed of its power note.
#
#   bench/impact.sh              1000 histories per case, 200 power simulations per history
#   bench/impact.sh 500 100      other counts
#
# Release build of shiplog-core only. Prints every figure that docs/impact.md reports.
set -euo pipefail
cd "$(dirname "$0")/.."
histories="${1:-1000}"
power="${2:-200}"
cargo run --release -q -p shiplog-core --example impact_power_speed
SHIPLOG_SIM_HISTORIES="$histories" SHIPLOG_SIM_POWER="$power" \
  cargo test --release -q -p shiplog-core --test impact_simulation -- --nocapture --test-threads 1 2>&1 |
  sed -E 's/^\.+//' | grep -E '^(no effect|known effect|powered|trend|shock|AR\(1\)|power|primary|data ending|small|test result)'
