#!/usr/bin/env python3
"""Run one command, measure wall time and peak RSS, append a JSON line.

    measure.py --append FILE [--set key=value ...] [--stdout PATH] [--stderr PATH] -- CMD ARGS...

Wall time is measured around fork/exec/wait of CMD only (python start-up is
not included). Peak RSS comes from os.wait4()'s rusage for that child, which
on Linux is the max RSS of the child and of all descendants it waited for, so
it works without /usr/bin/time and for wrapper scripts too.
With --poll-anon, a thread reads /proc/PID/status every 2 ms and records the
peak anonymous resident memory (RssAnon: the process's own heap and stacks,
without the file-backed pages of memory-mapped packs that both git and shiplog
map). Polling costs CPU, so use it on runs that are not timed.
Exits with CMD's exit status (128+signal if it was killed).
"""
import threading
import json
import os
import subprocess
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    i = argv.index("--")
    opts, cmd = argv[:i], argv[i + 1:]
    append = None
    poll_anon = False
    stdout = os.devnull
    stderr = None
    extra = {}
    it = iter(opts)
    for o in it:
        if o == "--append":
            append = next(it)
        elif o == "--stdout":
            stdout = next(it)
        elif o == "--stderr":
            stderr = next(it)
        elif o == "--poll-anon":
            poll_anon = True
        elif o == "--set":
            k, _, v = next(it).partition("=")
            try:
                extra[k] = json.loads(v)
            except ValueError:
                extra[k] = v
        else:
            print(f"measure.py: unknown option {o}", file=sys.stderr)
            return 2
    if not cmd:
        print("measure.py: no command", file=sys.stderr)
        return 2

    out = open(stdout, "wb")
    err = open(stderr, "wb") if stderr else None
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    anon_peak = [0]
    done = threading.Event()

    def poll():
        path = f"/proc/{p.pid}/status"
        while not done.is_set():
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            anon_peak[0] = max(anon_peak[0], int(line.split()[1]) * 1024)
                            break
            except OSError:
                break
            done.wait(0.002)

    poller = threading.Thread(target=poll, daemon=True) if poll_anon else None
    if poller:
        poller.start()
    _, status, ru = os.wait4(p.pid, 0)
    done.set()
    if poller:
        poller.join()
    wall = time.perf_counter() - t0
    p.returncode = 0  # reaped by wait4; keep Popen from waiting again
    out.close()
    if err:
        err.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc < 0:
        rc = 128 - rc
    rec = dict(extra)
    rec.update({
        "wall_s": round(wall, 6),
        "user_s": round(ru.ru_utime, 6),
        "sys_s": round(ru.ru_stime, 6),
        "maxrss_bytes": ru.ru_maxrss * 1024,  # Linux reports KiB
        "rc": rc,
    })
    if poll_anon:
        rec["anon_peak_bytes"] = anon_peak[0]
    line = json.dumps(rec)
    if append:
        with open(append, "a") as f:
            f.write(line + "\n")
    else:
        print(line)
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
