#!/usr/bin/env bash
# shiplog benchmark: cold and warm `shiplog metrics` runs against synthetic
# repositories, compared with a plain `git log --all` walk. See bench/README.md.
#
#   bench/run.sh [--sizes 200000,1000000] [--shiplog PATH] [--reps 3] [--seed 1]
#                [--shiplog-args 'EXTRA ARGS']
#
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
OUT="$BENCH_DIR/out"
GIT=${GIT:-git}
PY=${PYTHON:-python3}

SIZES=200000,1000000
SHIPLOG=
REPS=3
SEED=1
COMMITS_PER_TAG=40          # --tags = size / 40  (200000 -> 5000 tags)
# The generated histories run from 2021 into the future (1-40 minutes between commits), so the
# window is explicit and covers every commit: the measurement includes metrics over all of them.
SINCE=2000-01-01
UNTIL=2100-01-01
SHIPLOG_ARGS=

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --sizes LIST     comma-separated commit counts (default $SIZES)
  --shiplog PATH   binary to benchmark (default: cargo build --release -p shiplog,
                   then \${CARGO_TARGET_DIR:-target}/release/shiplog)
  --reps N         repetitions per measurement, median is reported (default $REPS)
  --seed N         generator seed (default $SEED)
  --shiplog-args S extra arguments appended to the shiplog command (word-split),
                   e.g. --shiplog-args '--lead-time-start committer'
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --sizes=*) SIZES=${1#*=}; shift ;;
        --shiplog) SHIPLOG=$2; shift 2 ;;
        --shiplog=*) SHIPLOG=${1#*=}; shift ;;
        --reps) REPS=$2; shift 2 ;;
        --reps=*) REPS=${1#*=}; shift ;;
        --seed) SEED=$2; shift 2 ;;
        --seed=*) SEED=${1#*=}; shift ;;
        --shiplog-args) SHIPLOG_ARGS=$2; shift 2 ;;
        --shiplog-args=*) SHIPLOG_ARGS=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

case "$REPS" in ''|*[!0-9]*|0) die "--reps must be a positive integer" ;; esac
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
read -r -a EXTRA_ARGS <<<"$SHIPLOG_ARGS"
for s in "${SIZE_LIST[@]}"; do
    case "$s" in ''|*[!0-9]*) die "bad size: '$s'" ;; esac
done

# --- the binary under test ---------------------------------------------------
if [ -z "$SHIPLOG" ]; then
    log "building: cargo build --release -p shiplog"
    (cd "$ROOT" && cargo build --release -p shiplog) || die "cargo build failed"
    SHIPLOG="${CARGO_TARGET_DIR:-$ROOT/target}/release/shiplog"
    case "$SHIPLOG" in /*) ;; *) SHIPLOG="$ROOT/$SHIPLOG" ;; esac
fi
case "$SHIPLOG" in */*) ;; *) SHIPLOG=$(command -v "$SHIPLOG" || echo "$SHIPLOG") ;; esac
[ -x "$SHIPLOG" ] || die "not an executable: $SHIPLOG"
SHIPLOG=$(cd "$(dirname "$SHIPLOG")" && pwd)/$(basename "$SHIPLOG")
SHIPLOG_VERSION=$(timeout 10 "$SHIPLOG" --version 2>/dev/null | head -n1 || true)

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK="$OUT/runs/$STAMP"            # logs, samples and sqlite files of this run
mkdir -p "$WORK"
SAMPLES="$WORK/samples.jsonl"
: >"$SAMPLES"
RESULTS="$OUT/results-$STAMP.json"
MEASURE=("$PY" "$BENCH_DIR/lib/measure.py" --append "$SAMPLES")

# --- repositories --------------------------------------------------------------
marker_field() {  # marker_field REPO FIELD  -> value from .git/bench-gen.json
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1/.git/bench-gen.json" "$2"
}

ensure_repo() {  # ensure_repo SIZE REPO
    local size=$1 repo=$2 tags=$(( $1 / COMMITS_PER_TAG ))
    [ "$tags" -ge 1 ] || tags=1
    if [ -f "$repo/.git/bench-gen.json" ] &&
       [ "$(marker_field "$repo" params.commits)" = "$size" ] &&
       [ "$(marker_field "$repo" params.tags)" = "$tags" ] &&
       [ "$(marker_field "$repo" params.seed)" = "$SEED" ]; then
        log "reusing $repo"
        return
    fi
    log "generating $repo ($size commits, $tags tags, seed $SEED)"
    rm -rf "$repo"
    "$PY" "$BENCH_DIR/gen-repo.py" --commits "$size" --tags "$tags" --seed "$SEED" "$repo" >&2 \
        || die "generation failed for $repo"
}

# Undo what the warm runs did: drop vbench-* tags, put main back where the
# generator left it. (The few extra loose objects are harmless.)
restore_repo() {  # restore_repo REPO
    local repo=$1 tip
    [ -f "$repo/.git/bench-gen.json" ] || return 0
    tip=$(marker_field "$repo" main)
    "$GIT" -C "$repo" for-each-ref --format='delete %(refname)' 'refs/tags/vbench-*' |
        "$GIT" -C "$repo" update-ref --stdin
    "$GIT" -C "$repo" update-ref refs/heads/main "$tip"
}

CURRENT_REPO=
cleanup() {
    if [ -n "$CURRENT_REPO" ]; then restore_repo "$CURRENT_REPO" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One new commit on main (same tree, i.e. `git commit --allow-empty` without
# needing an index) and one annotated tag vbench-N on it; dates are fixed and
# later than all of the history.
new_commit_and_tag() {  # new_commit_and_tag REPO BASE_EPOCH N
    local repo=$1 base=$2 n=$3 ts c
    ts=$(( base + n * 60 ))
    c=$(GIT_AUTHOR_NAME="shiplog bench" GIT_AUTHOR_EMAIL=bench@example.com \
        GIT_COMMITTER_NAME="shiplog bench" GIT_COMMITTER_EMAIL=bench@example.com \
        GIT_AUTHOR_DATE="@$ts +0000" GIT_COMMITTER_DATE="@$ts +0000" \
        "$GIT" -C "$repo" commit-tree "refs/heads/main^{tree}" -p refs/heads/main -m "bench: warm run $n")
    "$GIT" -C "$repo" update-ref refs/heads/main "$c"
    GIT_COMMITTER_NAME="shiplog bench" GIT_COMMITTER_EMAIL=bench@example.com \
        GIT_COMMITTER_DATE="@$(( ts + 30 )) +0000" \
        "$GIT" -C "$repo" tag -a -m "bench deploy $n" "vbench-$n" "$c"
}

json_str() { "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

error_sample() {  # error_sample SIZE MESSAGE
    printf '{"size": %s, "kind": "error", "message": %s}\n' "$1" "$(json_str "$2")" >>"$SAMPLES"
}

show_failure() {  # show_failure WHAT ERRFILE
    log "$1 failed; last lines of $2:"
    tail -n 15 "$2" | sed 's/^/    /' >&2 || true
}

load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 else 1)' "$load"; then
    log "warning: load average is $load; other work on this machine will add noise"
fi

FAILED=0
for size in "${SIZE_LIST[@]}"; do
    repo="$OUT/repo-$size"
    ensure_repo "$size" "$repo"
    CURRENT_REPO=$repo
    restore_repo "$repo"

    commits=$("$GIT" -C "$repo" rev-list --all --count)
    last_date=$(marker_field "$repo" last_date)
    # warm commits: 2030-01-01T00:00:00Z, or one day after the history if later
    warm_base=$(( last_date + 86400 > 1893456000 ? last_date + 86400 : 1893456000 ))
    "$PY" - "$repo" "$size" "$commits" >>"$SAMPLES" <<'EOF'
import json, sys
repo, size, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gen = json.load(open(f"{repo}/.git/bench-gen.json"))
print(json.dumps({"size": size, "kind": "repo", "path": repo, "commits": commits, "generation": gen}))
EOF
    log "size $size: $commits commits in $repo"

    db="$WORK/shiplog-$size.db"
    shiplog_cmd=("$SHIPLOG" --db "$db" metrics --repo "$repo" --deploys tags --since "$SINCE" --until "$UNTIL" --format json ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})

    # Untimed warm-up so that every timed run sees a warm page cache.
    "$GIT" -C "$repo" log --all --format='%H %P %at %ct' >/dev/null

    # git log and cold shiplog runs are interleaved so that a change in
    # machine load affects both sides of the ratio alike.
    cold_ok=1
    for rep in $(seq 1 "$REPS"); do
        "${MEASURE[@]}" --set size="$size" --set kind=gitlog --set rep="$rep" \
            --stderr "$WORK/gitlog-$size-$rep.err" \
            -- "$GIT" -C "$repo" log --all --format='%H %P %at %ct' \
            || die "git log failed on $repo"
        [ "$cold_ok" = 1 ] || continue
        rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
        if ! "${MEASURE[@]}" --set size="$size" --set kind=cold --set rep="$rep" \
                --stderr "$WORK/cold-$size-$rep.err" -- "${shiplog_cmd[@]}"; then
            show_failure "cold run $rep (size $size)" "$WORK/cold-$size-$rep.err"
            error_sample "$size" "cold run $rep failed, see $WORK/cold-$size-$rep.err"
            cold_ok=0 FAILED=1
        fi
    done
    log "size $size: git log and cold runs done"

    # Memory: one more cold run (not timed), polling the process's anonymous memory, and the same
    # for git log, for comparison.
    if [ "$cold_ok" = 1 ]; then
        rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
        "${MEASURE[@]}" --poll-anon --set size="$size" --set kind=memory \
            --stderr "$WORK/memory-$size.err" -- "${shiplog_cmd[@]}" || FAILED=1
        "${MEASURE[@]}" --poll-anon --set size="$size" --set kind=gitlog-memory \
            --stderr "$WORK/gitlog-memory-$size.err" \
            -- "$GIT" -C "$repo" log --all --format='%H %P %at %ct' || FAILED=1
    fi

    if [ "$cold_ok" = 1 ]; then
        for rep in $(seq 1 "$REPS"); do
            new_commit_and_tag "$repo" "$warm_base" "$rep"
            if ! "${MEASURE[@]}" --set size="$size" --set kind=warm --set rep="$rep" \
                    --stderr "$WORK/warm-$size-$rep.err" -- "${shiplog_cmd[@]}"; then
                show_failure "warm run $rep (size $size)" "$WORK/warm-$size-$rep.err"
                error_sample "$size" "warm run $rep failed, see $WORK/warm-$size-$rep.err"
                FAILED=1
                break
            fi
        done
        log "size $size: warm runs done"
    else
        error_sample "$size" "warm runs skipped (no database from a successful cold run)"
    fi

    restore_repo "$repo"
    CURRENT_REPO=
done

"$PY" - "$WORK/meta.json" <<EOF
import json, os, platform, sys
meta = {
    "timestamp": "$STAMP",
    "host": platform.node(),
    "cpus": os.cpu_count(),
    "platform": platform.platform(),
    "git_version": "$("$GIT" --version)",
    "shiplog": {"path": $(json_str "$SHIPLOG"), "version": $(json_str "$SHIPLOG_VERSION")},
    "command": "shiplog --db DB metrics --repo REPO --deploys tags --since $SINCE --until $UNTIL --format json" + (" " + $(json_str "$SHIPLOG_ARGS") if $(json_str "$SHIPLOG_ARGS") else ""),
    "baseline": "git -C REPO log --all --format='%H %P %at %ct'",
    "reps": $REPS,
    "loadavg_at_start": "$load",
    "loadavg_at_end": open("/proc/loadavg").read().split()[0],
    "seed": $SEED,
    "work_dir": $(json_str "$WORK"),
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
EOF
"$PY" "$BENCH_DIR/lib/report.py" "$SAMPLES" "$WORK/meta.json" "$RESULTS"
exit "$FAILED"
