#!/usr/bin/env bash
# The import fuzz of crates/shiplog/tests/hardening.rs, longer than in CI (issue 13).
#
#   bench/fuzz.sh [CASES] [SEED]        default 5000 cases, seed 20260303
#
# Each case mutates a recorded payload (../shared/payloads) or one of shiplog's own record files
# and imports it with the real binary into a real SQLite store; it fails on a panic or an abort, an
# error line that names no file with a line or JSON path, or a failed import that changed the
# store. Prints the counts and the wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-5000}
seed=${2:-20260303}
start=$(date +%s)
SHIPLOG_FUZZ_CASES=$cases SHIPLOG_FUZZ_SEED=$seed cargo test -p shiplog --test hardening fuzzed_imports -- --nocapture 2>&1 |
  grep -E '^fuzz:|test result|panicked|FAILED' || true
echo "wall: $(( $(date +%s) - start )) s for $cases cases"
