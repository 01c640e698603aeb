#!/usr/bin/env bash
# Stand-in for the shiplog CLI, used only to test bench/run.sh's plumbing while
# the real CLI is not ready:
#   bench/run.sh --shiplog bench/stand-in-shiplog.sh --sizes 200000
# Understands `--db FILE metrics --repo REPO [ignored options...]`.
# Without FILE: a full `git log --all` walk (like a cold shiplog run).
# With FILE from an earlier run: only walks commits not reachable from the
# tips recorded there (like a warm, incremental run). Then records the tips.
set -euo pipefail
GIT=${GIT:-git}
db= repo=.
while [ $# -gt 0 ]; do
    case "$1" in
        --version) echo "stand-in-shiplog 0 (git log wrapper)"; exit 0 ;;
        --db) db=$2; shift 2 ;;
        --repo) repo=$2; shift 2 ;;
        *) shift ;;
    esac
done
[ -n "$db" ] || { echo "stand-in: --db is required" >&2; exit 2; }
fmt='%H %P %at %ct'
if [ -s "$db" ]; then
    sed 's/^/^/' "$db" | "$GIT" -C "$repo" log --all --stdin --format="$fmt" >/dev/null
else
    "$GIT" -C "$repo" log --all --format="$fmt" >/dev/null
fi
"$GIT" -C "$repo" for-each-ref --format='%(objectname)' >"$db.tmp"
mv "$db.tmp" "$db"
echo '{"stand_in": true}'
