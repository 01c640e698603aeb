#!/usr/bin/env python3
"""Summarise bench/run.sh samples: print a table and write results JSON.

    report.py SAMPLES.jsonl META.json OUT.json

SAMPLES.jsonl holds one line per measured run (from measure.py) with keys
size, kind (gitlog|cold|warm), rep, wall_s, maxrss_bytes, rc; plus lines with
kind "repo" describing each repository, or kind "error".
META.json holds run-wide facts (timestamp, shiplog path/version, host ...).
"""
import json
import statistics
import sys

TARGET_COLD_RATIO = 1.0      # cold <= 1.0 x git log
TARGET_WARM_RATIO = 0.02     # warm <  2% of git log
TARGET_BYTES_PER_COMMIT = 300


def fmt(x, spec, none="-"):
    return none if x is None else format(x, spec)


def mark(ok):
    return "" if ok is None else (" ok" if ok else " MISS")


def main() -> int:
    samples_path, meta_path, out_path = sys.argv[1:4]
    with open(meta_path) as f:
        meta = json.load(f)
    rows = [json.loads(l) for l in open(samples_path) if l.strip()]

    sizes = []
    for r in rows:
        if r["size"] not in sizes:
            sizes.append(r["size"])

    results = []
    for size in sizes:
        rs = [r for r in rows if r["size"] == size]
        repo = next((r for r in rs if r["kind"] == "repo"), {})
        errors = [r["message"] for r in rs if r["kind"] == "error"]

        def runs(kind):
            return [r for r in rs if r["kind"] == kind]

        def med(kind):
            ok = [r["wall_s"] for r in runs(kind) if r["rc"] == 0]
            bad = [r for r in runs(kind) if r["rc"] != 0]
            return (statistics.median(ok) if ok and not bad else None), ok

        def cpu(kind):
            ok = [r["user_s"] + r["sys_s"] for r in runs(kind) if r["rc"] == 0]
            return round(statistics.median(ok), 6) if ok else None

        git_med, git_all = med("gitlog")
        cold_med, cold_all = med("cold")
        warm_med, warm_all = med("warm")
        commits = repo.get("commits")
        cold_rss = [r["maxrss_bytes"] for r in runs("cold") if r["rc"] == 0]
        peak = max(cold_rss) if cold_rss and cold_med is not None else None
        cold_ratio = cold_med / git_med if cold_med is not None and git_med else None
        warm_ratio = warm_med / git_med if warm_med is not None and git_med else None
        bpc = peak / commits if peak is not None and commits else None
        anon = max((r.get("anon_peak_bytes", 0) for r in runs("memory") if r["rc"] == 0), default=None)
        git_anon = max((r.get("anon_peak_bytes", 0) for r in runs("gitlog-memory") if r["rc"] == 0), default=None)
        anon_bpc = anon / commits if anon and commits else None
        results.append({
            "size": size,
            "repo": repo.get("path"),
            "commits": commits,
            "generation": repo.get("generation"),
            "git_log": {"median_cpu_s": cpu("gitlog"), "median_s": git_med, "runs_s": git_all,
                        "peak_rss_bytes": max((r["maxrss_bytes"] for r in runs("gitlog")), default=None)},
            "cold": {"median_cpu_s": cpu("cold"), "median_s": cold_med, "runs_s": cold_all, "peak_rss_bytes": peak,
                     "exit_codes": [r["rc"] for r in runs("cold")]},
            "warm": {"median_cpu_s": cpu("warm"), "median_s": warm_med, "runs_s": warm_all,
                     "peak_rss_bytes": max((r["maxrss_bytes"] for r in runs("warm")), default=None),
                     "exit_codes": [r["rc"] for r in runs("warm")]},
            "cold_over_git": cold_ratio,
            "warm_over_git": warm_ratio,
            "peak_rss_bytes_per_commit": bpc,
            "peak_anon_bytes": anon,
            "peak_anon_bytes_per_commit": anon_bpc,
            "git_log_peak_anon_bytes": git_anon,
            "targets_met": {
                "cold": None if cold_ratio is None else cold_ratio <= TARGET_COLD_RATIO,
                "warm": None if warm_ratio is None else warm_ratio < TARGET_WARM_RATIO,
                "memory": None if anon_bpc is None else anon_bpc < TARGET_BYTES_PER_COMMIT,
            },
            "errors": errors,
        })

    doc = dict(meta)
    doc["targets"] = {"cold_over_git_max": TARGET_COLD_RATIO, "warm_over_git_max": TARGET_WARM_RATIO,
                      "peak_rss_bytes_per_commit_max": TARGET_BYTES_PER_COMMIT}
    doc["results"] = results
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    hdr = ["size", "commits", "git log s", "cold s", "cold/git", "warm s", "warm/git",
           "peak RSS MiB", "RSS B/commit", "anon MiB (git)", "anon B/commit"]
    table = [hdr]
    for r in results:
        t = r["targets_met"]
        table.append([
            str(r["size"]), fmt(r["commits"], "d"),
            fmt(r["git_log"]["median_s"], ".3f"),
            fmt(r["cold"]["median_s"], ".3f"),
            fmt(r["cold_over_git"], ".2f") + ("x" if r["cold_over_git"] is not None else "") + mark(t["cold"]),
            fmt(r["warm"]["median_s"], ".3f"),
            fmt(None if r["warm_over_git"] is None else 100 * r["warm_over_git"], ".2f")
            + ("%" if r["warm_over_git"] is not None else "") + mark(t["warm"]),
            fmt(None if r["cold"]["peak_rss_bytes"] is None else r["cold"]["peak_rss_bytes"] / 2**20, ".1f"),
            fmt(r["peak_rss_bytes_per_commit"], ".0f"),
            fmt(None if r["peak_anon_bytes"] is None else r["peak_anon_bytes"] / 2**20, ".1f")
            + (f" ({r['git_log_peak_anon_bytes'] / 2**20:.1f})" if r["git_log_peak_anon_bytes"] else ""),
            fmt(r["peak_anon_bytes_per_commit"], ".0f") + mark(t["memory"]),
        ])
    table.append(["target", "", "", "", "<= 1.00x", "", "< 2%", "", "", "", "< 300"])
    widths = [max(len(row[i]) for row in table) for i in range(len(hdr))]
    print()
    print(f"shiplog: {meta.get('shiplog', {}).get('path')}  ({meta.get('shiplog', {}).get('version') or 'version unknown'})")
    print(f"medians of {meta.get('reps')} runs each; peak RSS = max over the cold runs (includes the")
    print("file-backed pages of the memory-mapped pack, as git log's does); anon = peak anonymous memory")
    print("of one extra cold run (the process's own memory; git log's in parentheses)")
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if i == 0 or i == len(table) - 2:
            print("  ".join("-" * w for w in widths))
    for r in results:
        for e in r["errors"]:
            print(f"size {r['size']}: {e}")
    print(f"\nresults: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
