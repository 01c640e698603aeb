#!/usr/bin/env python3
"""Generate a large, deterministic, synthetic git repository for benchmarks.

Usage:
    bench/gen-repo.py --commits 200000 --tags 5000 --seed 1 DIR
    bench/gen-repo.py --commits 1000 --tags 20 --seed 1 > stream.fi   # stream only

With DIR, the script creates a fresh repository there and pipes a
`git fast-import` stream straight into `git fast-import`, then deletes the
scratch branches, packs refs, checks out `main` and writes a commit-graph.
Without DIR, it writes the fast-import stream to stdout.

History shape (everything derives from random.Random(seed), dates are pinned):
  * `main`'s first-parent chain: ~1/3 merges of short feature branches
    (1-8 commits, branched from main's tip), ~2/3 direct commits; a few
    octopus merges (3 parents) of two feature branches.
  * ~1 in 500 non-merge commits is a revert, with the body
    "This reverts commit <40-hex sha>." of a recent commit already on main
    (sha obtained from fast-import with `get-mark`; only in DIR mode).
  * Every non-merge commit modifies one small file src/<area>/<module>.txt
    (a revision counter); merges carry the feature branch's file states.
  * Committer dates start 2021-01-01T00:00:00Z and advance by 1-40 minutes
    (configurable) per commit; ~20% of non-merge commits have an author date
    5 min - 4 h earlier (rebased work). Each author has a fixed tz offset.
  * --tags tags on main's first-parent chain, evenly spread, named
    v1.0.0, v1.0.1, ... (semver-like, unique, increasing); ~80% annotated
    (tagger date 2-15 min after the commit), ~20% lightweight.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from array import array
from random import Random

GIT = os.environ.get("GIT", "git")

START_EPOCH = 1609459200  # 2021-01-01T00:00:00Z

AUTHORS = [
    # name, email, tz
    ("Alice Martin", "alice.martin@example.com", "+0100"),
    ("Bob Okafor", "bob.okafor@example.com", "+0000"),
    ("Carla Souza", "carla.souza@example.com", "-0300"),
    ("Dmitri Volkov", "dmitri.volkov@example.com", "+0300"),
    ("Emma Schulz", "emma.schulz@example.com", "+0200"),
    ("Farid Haddad", "farid.haddad@example.com", "+0400"),
    ("Grace Kim", "grace.kim@example.com", "+0900"),
    ("Hector Ramirez", "hector.ramirez@example.com", "-0600"),
    ("Ines Laurent", "ines.laurent@example.com", "+0100"),
    ("Jamal Wright", "jamal.wright@example.com", "-0500"),
    ("Kenji Sato", "kenji.sato@example.com", "+0900"),
    ("Lena Novak", "lena.novak@example.com", "+0200"),
    ("Mia Chen", "mia.chen@example.com", "-0800"),
    ("Noah Patel", "noah.patel@example.com", "+0530"),
]
IDENTS = [f"{n} <{e}> " for n, e, _ in AUTHORS]
TZS = [f" {tz}\n" for _, _, tz in AUTHORS]
SHORT = [e.split(".")[0] for _, e, _ in AUTHORS]

AREAS = ["api", "auth", "billing", "cli", "core", "db", "deploy", "docs",
         "ingest", "metrics", "notify", "report", "search", "storage", "ui", "web"]
MODULES_PER_AREA = 32
FILES = [f"src/{a}/module{m:02d}.txt" for a in AREAS for m in range(MODULES_PER_AREA)]

TYPES = ["feat", "feat", "feat", "fix", "fix", "fix", "fix", "chore", "refactor",
         "refactor", "docs", "test", "test", "perf", "ci", "build"]
VERBS = ["add", "handle", "support", "remove", "rename", "simplify", "cache",
         "validate", "retry", "log", "expose", "document", "speed up", "fix",
         "guard against", "clean up", "split", "inline", "deprecate", "batch"]
OBJECTS = ["pagination", "empty responses", "timeouts", "the retry budget",
           "stale entries", "config reload", "unicode names", "large payloads",
           "the error path", "duplicate events", "rate limits", "token refresh",
           "schema migration", "the health check", "slow queries",
           "missing fields", "feature flags", "the cursor", "null dates",
           "concurrent writes", "the export job", "time zones", "old clients"]
BODY = [
    "The previous behaviour dropped the last page.",
    "This keeps the public interface unchanged.",
    "Callers no longer need to check for None.",
    "Measured a 12% improvement on the nightly run.",
    "Follow-up to the incident review.",
    "No functional change intended.",
    "Covered by a new regression test.",
    "Behind a feature flag for now.",
    "Requested by the on-call rotation.",
    "The old code path is kept for one release.",
    "This avoids a full table scan.",
    "Errors are now reported with context.",
    "Matches what the mobile client expects.",
    "Also tidies up the surrounding code.",
    "See the design note in the wiki.",
    "Reviewed with the platform team.",
]
TRAILERS = ["Refs: #{n}", "Closes #{n}", "Co-authored-by: {who}",
            "Signed-off-by: {who}", "Reviewed-by: {who}"]


def semver(i: int) -> str:
    # unique and increasing: v1.0.0 .. v1.0.49, v1.1.0 .. v1.19.49, v2.0.0 ...
    return f"v{1 + i // 1000}.{(i // 50) % 20}.{i % 50}"


class Gen:
    def __init__(self, args, out, feedback):
        self.a = args
        self.r = Random(args.seed)
        self.out = out              # binary writable
        self.fb = feedback          # binary readable (cat-blob-fd) or None
        self.buf: list[str] = []
        self.buflen = 0
        self.t = START_EPOCH
        self.mark = 0
        self.rev = [0] * len(FILES)
        self.n_commits = 0
        self.n_merges = 0
        self.n_octopus = 0
        self.n_reverts = 0
        self.n_direct = 0
        self.n_features = 0
        self.pr = 1000
        # main first-parent chain: marks and committer times (for tags)
        self.main_marks = array("I")
        self.main_times = array("q")
        # recent non-merge commits already on main: (mark, subject, file_idx)
        self.recent: list[tuple[int, str, int]] = []
        self.msg_bytes = 0

    # ---- output -------------------------------------------------------
    def w(self, s: str) -> None:
        self.buf.append(s)
        self.buflen += len(s)
        if self.buflen > 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write("".join(self.buf).encode())
            self.buf = []
            self.buflen = 0

    def sha_of(self, mark: int) -> str:
        self.w(f"get-mark :{mark}\n")
        self.flush()
        self.out.flush()
        line = self.fb.readline().decode().strip()
        if len(line) != 40:
            raise SystemExit(f"gen-repo: unexpected get-mark reply {line!r}")
        return line

    # ---- content ------------------------------------------------------
    def subject(self, area: str) -> str:
        r = self.r
        return f"{TYPES[r.randrange(len(TYPES))]}({area}): {VERBS[r.randrange(len(VERBS))]} {OBJECTS[r.randrange(len(OBJECTS))]}"

    def body(self) -> str:
        r = self.r
        x = r.random()
        n = 1 if x < 0.45 else 2 if x < 0.75 else 3 if x < 0.9 else 4 if x < 0.97 else 5
        lines = [BODY[r.randrange(len(BODY))] for _ in range(n)]
        if r.random() < 0.3:
            tr = TRAILERS[r.randrange(len(TRAILERS))]
            lines.append("")
            lines.append(tr.format(n=r.randrange(100, 9999), who=IDENTS[r.randrange(len(IDENTS))].strip()))
        return "\n".join(lines)

    def file_data(self, fi: int, who: int) -> str:
        self.rev[fi] += 1
        c = f"# {FILES[fi]}\nrevision: {self.rev[fi]}\nlast-change-by: {SHORT[who]}\n"
        return f"M 100644 inline {FILES[fi]}\ndata {len(c)}\n{c}\n"

    def tick(self) -> int:
        self.t += self.r.randint(60, self.a.max_step * 60)
        return self.t

    # ---- commits ------------------------------------------------------
    def emit(self, ref, who, at, ct, msg, extra) -> int:
        self.mark += 1
        self.n_commits += 1
        self.msg_bytes += len(msg) + 1
        self.w(f"commit {ref}\nmark :{self.mark}\nauthor {IDENTS[who]}{at}{TZS[who]}"
               f"committer {IDENTS[who]}{ct}{TZS[who]}data {len(msg) + 1}\n{msg}\n{extra}\n")
        return self.mark

    def root_commit(self) -> None:
        ct = self.t
        parts = []
        for fi in range(len(FILES)):
            parts.append(self.file_data(fi, 0))
        m = self.emit("refs/heads/main", 0, ct, ct, "Initial commit\n\nImport the existing code base.", "".join(parts))
        self.main_marks.append(m)
        self.main_times.append(ct)

    def work_commit(self, ref: str, from_ref: str | None, files: dict) -> tuple[int, str, int]:
        """A non-merge commit touching one file (maybe a revert)."""
        r = self.r
        who = r.randrange(len(AUTHORS))
        ct = self.tick()
        at = ct - r.randint(300, 4 * 3600) if r.random() < 0.2 else ct
        if self.fb is not None and self.recent and r.random() < self.a.revert_rate:
            tm, tsubj, fi = self.recent[r.randrange(len(self.recent))]
            sha = self.sha_of(tm)
            subj = f'Revert "{tsubj}"'
            msg = f"{subj}\n\nThis reverts commit {sha}."
            self.n_reverts += 1
        else:
            fi = r.randrange(len(FILES))
            subj = self.subject(AREAS[fi // MODULES_PER_AREA])
            msg = f"{subj}\n\n{self.body()}"
        extra = f"from {from_ref}\n" if from_ref else ""
        fd = self.file_data(fi, who)
        files[fi] = fd
        m = self.emit(ref, who, at, ct, msg, extra + fd)
        return m, subj, fi

    def remember(self, items) -> None:
        self.recent.extend(items)
        if len(self.recent) > 400:
            del self.recent[:-200]

    def direct(self) -> None:
        m, subj, fi = self.work_commit("refs/heads/main", None, {})
        self.n_direct += 1
        self.main_marks.append(m)
        self.main_times.append(self.t)
        self.remember([(m, subj, fi)])

    def feature(self, ref: str, n: int, files: dict) -> list:
        done = []
        for i in range(n):
            done.append(self.work_commit(ref, "refs/heads/main" if i == 0 else None, files))
        self.n_features += 1
        return done

    def merge(self, budget: int) -> None:
        r = self.r
        octo = budget >= 6 and r.random() < self.a.octopus_rate
        who = r.randrange(len(AUTHORS))
        if octo:
            n1 = r.randint(1, min(8, (budget - 1) // 2))
            n2 = r.randint(1, min(8, budget - 1 - n1))
            files: dict = {}
            d1 = self.feature("refs/heads/wip/a", n1, files)
            d2 = self.feature("refs/heads/wip/b", n2, files)
            ct = self.tick()
            msg = (f"Merge branches '{SHORT[who]}/batch-{self.pr}' and '{SHORT[who]}/batch-{self.pr + 1}' into main\n\n"
                   f"Release train {self.pr // 10}.")
            self.pr += 2
            m = self.emit("refs/heads/main", who, ct, ct, msg,
                          "merge refs/heads/wip/a\nmerge refs/heads/wip/b\n" + "".join(files.values()))
            self.n_octopus += 1
            done = d1 + d2
        else:
            n = r.randint(1, min(8, budget - 1))
            files = {}
            done = self.feature("refs/heads/wip/a", n, files)
            ct = self.tick()
            first = done[0][1]
            msg = (f"Merge pull request #{self.pr} from {SHORT[who]}/{AREAS[done[0][2] // MODULES_PER_AREA]}-{self.pr}\n\n"
                   f"{first.split(': ', 1)[-1].capitalize()}")
            self.pr += 1
            m = self.emit("refs/heads/main", who, ct, ct, msg,
                          "merge refs/heads/wip/a\n" + "".join(files.values()))
        self.n_merges += 1
        self.main_marks.append(m)
        self.main_times.append(ct)
        self.remember(done)

    def tags(self) -> tuple[int, int]:
        r = self.r
        n = min(self.a.tags, len(self.main_marks) - 1)
        if n < self.a.tags:
            print(f"gen-repo: only {n} main commits available for tags", file=sys.stderr)
        total = len(self.main_marks)
        ann = light = 0
        for i in range(n):
            # evenly spread over the first-parent chain, newest tag on the tip
            idx = total - 1 - (i * (total - 1)) // max(n, 1)
            k = n - 1 - i
            name = semver(k)
            mk = self.main_marks[idx]
            if r.random() < 0.8:
                who = r.randrange(len(AUTHORS))
                tt = self.main_times[idx] + r.randint(120, 900)
                msg = f"Release {name}\n"
                self.w(f"tag {name}\nfrom :{mk}\ntagger {IDENTS[who]}{tt}{TZS[who]}data {len(msg)}\n{msg}\n")
                ann += 1
            else:
                self.w(f"reset refs/tags/{name}\nfrom :{mk}\n\n")
                light += 1
        return ann, light

    def run(self) -> None:
        a = self.a
        self.w("feature done\n")
        self.root_commit()
        merge_p = a.merge_ratio
        while self.n_commits < a.commits:
            budget = a.commits - self.n_commits
            if budget >= 2 and self.r.random() < merge_p:
                self.merge(budget)
            else:
                self.direct()
        self.ann, self.light = self.tags()
        self.w("done\n")
        self.flush()


def run_git(repo, *args, capture=False):
    cmd = [GIT, "-C", repo, *args]
    if capture:
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    subprocess.run(cmd, check=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--commits", type=int, default=200000, help="total commits including merges (default 200000)")
    p.add_argument("--tags", type=int, default=5000, help="tags on main's first-parent chain (default 5000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-step", type=int, default=40, help="max minutes between commits (min is 1; default 40)")
    p.add_argument("--merge-ratio", type=float, default=1 / 3, help="share of main first-parent commits that are merges")
    p.add_argument("--octopus-rate", type=float, default=0.01, help="share of merges that are 3-parent octopus merges")
    p.add_argument("--revert-rate", type=float, default=1 / 500, help="share of non-merge commits that are reverts")
    p.add_argument("--force", action="store_true", help="remove DIR first if it exists")
    p.add_argument("--repack", action="store_true", help="run 'git repack -adf' after import (slow; off by default)")
    p.add_argument("dir", nargs="?", help="target repository (omit to write the stream to stdout)")
    a = p.parse_args()
    if a.commits < 1:
        p.error("--commits must be >= 1")

    t0 = time.monotonic()
    if a.dir is None:
        print("gen-repo: stream mode, reverts disabled (they need get-mark feedback)", file=sys.stderr)
        g = Gen(a, sys.stdout.buffer, None)
        g.run()
        sys.stdout.buffer.flush()
        print(f"gen-repo: commits={g.n_commits} merges={g.n_merges} octopus={g.n_octopus} "
              f"tags={g.ann + g.light} seconds={time.monotonic() - t0:.1f}", file=sys.stderr)
        return 0

    d = os.path.abspath(a.dir)
    if os.path.exists(d):
        if a.force:
            shutil.rmtree(d)
        elif os.listdir(d):
            p.error(f"{d} exists and is not empty (use --force)")
    os.makedirs(d, exist_ok=True)
    subprocess.run([GIT, "init", "-q", "-b", "main", d], check=True)
    run_git(d, "config", "gc.auto", "0")
    run_git(d, "config", "user.name", "shiplog bench")
    run_git(d, "config", "user.email", "bench@example.com")

    rfd, wfd = os.pipe()
    fi = subprocess.Popen(
        [GIT, "-C", d, "fast-import", "--quiet", "--done", "--date-format=raw",
         f"--cat-blob-fd={wfd}", "--active-branches=8"],
        stdin=subprocess.PIPE, pass_fds=(wfd,))
    os.close(wfd)
    fb = os.fdopen(rfd, "rb")
    g = Gen(a, fi.stdin, fb)
    try:
        g.run()
        fi.stdin.close()
    except BrokenPipeError:
        pass
    rc = fi.wait()
    fb.close()
    if rc != 0:
        print(f"gen-repo: git fast-import failed with exit code {rc}", file=sys.stderr)
        return 1
    t_import = time.monotonic() - t0

    run_git(d, "update-ref", "-d", "refs/heads/wip/a")
    if g.n_octopus:
        run_git(d, "update-ref", "-d", "refs/heads/wip/b")
    run_git(d, "pack-refs", "--all")
    run_git(d, "reset", "-q", "--hard", "refs/heads/main")
    if a.repack:
        run_git(d, "repack", "-adfq")
    run_git(d, "commit-graph", "write", "--reachable", "--no-progress")
    seconds = time.monotonic() - t0

    tip = run_git(d, "rev-parse", "refs/heads/main", capture=True).strip()
    packdir = os.path.join(d, ".git", "objects", "pack")
    pack_bytes = sum(os.path.getsize(os.path.join(packdir, f)) for f in os.listdir(packdir) if f.endswith(".pack"))
    info = {
        "params": {"commits": a.commits, "tags": a.tags, "seed": a.seed, "max_step": a.max_step,
                   "merge_ratio": a.merge_ratio, "octopus_rate": a.octopus_rate,
                   "revert_rate": a.revert_rate, "repack": a.repack},
        "commits": g.n_commits, "merges": g.n_merges, "octopus": g.n_octopus,
        "reverts": g.n_reverts, "direct": g.n_direct, "feature_branches": g.n_features,
        "first_parent": len(g.main_marks), "tags": g.ann + g.light,
        "annotated_tags": g.ann, "lightweight_tags": g.light,
        "first_date": START_EPOCH, "last_date": g.t,
        "avg_message_bytes": round(g.msg_bytes / max(g.n_commits, 1), 1),
        "main": tip, "pack_bytes": pack_bytes,
        "seconds_import": round(t_import, 2), "seconds_total": round(seconds, 2),
        "git": run_git(d, "--version", capture=True).strip(),
    }
    # Completion marker, written last: bench/run.sh only reuses repos that have it.
    with open(os.path.join(d, ".git", "bench-gen.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    last = time.strftime("%Y-%m-%d", time.gmtime(g.t))
    print(f"gen-repo: {d}: commits={g.n_commits} merges={g.n_merges} (octopus {g.n_octopus}) "
          f"reverts={g.n_reverts} tags={g.ann + g.light} ({g.ann} annotated) "
          f"dates=2021-01-01..{last} seconds={seconds:.1f} (import {t_import:.1f}) "
          f"pack={pack_bytes / 2**20:.1f}MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
