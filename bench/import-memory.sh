#!/usr/bin/env bash
# Peak memory of `shiplog import` on a large GitHub REST pulls list (issue 13), or with
# `--kind pagerduty` on a PagerDuty REST incidents response, the list wrapped in an object
# (`{"incidents": [...], "limit": N, "more": false}`).
#
#   bench/import-memory.sh [--mb 100] [--kind github|pagerduty] [--shiplog PATH]
#
# Generates bench/out/pulls-<MB>mb.json: a JSON array of GitHub pull requests (the recorded
# webhook's pull_request object from ../shared/payloads, renumbered), about MB megabytes, then runs
# `shiplog import --from github` on it into a fresh store under /usr/bin/time -v and prints the
# file size, the peak resident memory and their ratio. A list is read one item at a time, so the
# peak is the file (read whole) plus the records kept, not a tree of the whole document; the
# baseline in the same run is `python3 -c 'json.load'` of the same file, which builds that tree.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=100
kind=github
shiplog=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb=$2; shift 2 ;;
    --kind) kind=$2; shift 2 ;;
    --shiplog) shiplog=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$shiplog" ]; then
  cargo build --release -p shiplog >&2
  shiplog=${CARGO_TARGET_DIR:-target}/release/shiplog
fi
out=bench/out
mkdir -p "$out"
list=$out/pulls-${mb}mb.json
seed=../shared/payloads/github/pull_request_closed_merged.DERIVED.json
if [ "$kind" = pagerduty ]; then
  list=$out/pagerduty-incidents-${mb}mb.json
  if [ ! -s "$list" ]; then
    python3 - ../shared/payloads/pagerduty/incident.resolved.v3.zulip-fixture.json "$list" "$mb" <<'PY'
import json, sys
seed, path, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
incident = json.load(open(seed))["event"]["data"]
incident.setdefault("created_at", "2021-06-04T13:00:00Z")
incident["last_status_change_at"] = "2021-06-04T14:00:00Z"
incident["status"] = "resolved"
target = mb * 1_000_000
with open(path, "w") as f:
    f.write('{"limit": 100, "offset": 0, "incidents": [\n')
    n, size = 0, 40
    while size < target:
        n += 1
        incident["id"] = f"P{n:09d}"
        incident["incident_number"] = n
        text = ("" if n == 1 else ",\n") + json.dumps(incident, indent=1)
        f.write(text)
        size += len(text)
    f.write('\n], "more": false, "total": null}\n')
print(f"generated {path}: {n} incidents", file=sys.stderr)
PY
  fi
fi
if [ "$kind" = github ] && [ ! -s "$list" ]; then
  python3 - "$seed" "$list" "$mb" <<'PY'
import json, sys
seed, path, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
pr = json.load(open(seed))["pull_request"]
target = mb * 1_000_000
with open(path, "w") as f:
    f.write("[\n")
    n, size = 0, 2
    while size < target:
        n += 1
        pr["number"] = n
        pr["id"] = 1_000_000 + n
        pr["merge_commit_sha"] = f"{n:040x}"
        pr["head"]["sha"] = f"{n + 10**9:040x}"
        text = ("" if n == 1 else ",\n") + json.dumps(pr, indent=1)
        f.write(text)
        size += len(text)
    f.write("\n]\n")
print(f"generated {path}: {n} pull requests", file=sys.stderr)
PY
fi
bytes=$(stat -c %s "$list")
db=$(mktemp -d)/store.db
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }
wall() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
base_kb=$(peak python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$list")
ship_kb=$(peak "$shiplog" --quiet --db "$db" import --from "$kind" "$list")
rm -f "$db" "$db-wal" "$db-shm"
# The process's own (anonymous) memory, sampled every 5 ms: a large file is mapped, and its pages
# (file-backed, the operating system's cache) count in the resident size above but are not memory
# the import holds.
anon_kb=$(python3 - "$shiplog" --quiet --db "$db" import --from "$kind" "$list" <<'PY'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    try:
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("RssAnon:"):
                peak = max(peak, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.005)
print(peak)
PY
)
rm -f "$db" "$db-wal" "$db-shm"
secs=$(wall "$shiplog" --quiet --db "$db" import --from "$kind" "$list")
awk -v b="$bytes" -v s="$ship_kb" -v a="$anon_kb" -v p="$base_kb" -v t="$secs" 'BEGIN {
  printf "file: %.1f MB\n", b / 1e6
  printf "shiplog import peak RSS: %.1f MiB (%.2f x the file), %.1f s\n", s / 1024, s * 1024 / b, t
  printf "shiplog import peak anonymous memory (its own, without the mapped file): %.1f MiB (%.2f x the file)\n", a / 1024, a * 1024 / b
  printf "baseline python json.load peak RSS: %.1f MiB (%.2f x the file)\n", p / 1024, p * 1024 / b
  printf "ratio shiplog / baseline: %.2f\n", s / p
}'
