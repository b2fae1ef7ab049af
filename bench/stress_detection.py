"""Benchmark of ftready stress on the racy corpus module (prints figures).

  ~/.cache/ftready/python/3.13t/prefix/bin/python3 bench/stress_detection.py [--seeds N] [--budget S]

For each seeded race of corpus/cache_racy (its ground_truth.json `races`):
time to first detection, median over seeds, with and without the C API shims
and with and without static guidance (--findings from ftready scan); calls
per second; and the same against a plain threading loop that does what
pytest-run-parallel does (a barrier, then the same call in every thread, no
shared-object mutation), run in the same TSan interpreter for the same
budget. All configurations run side by side in one invocation.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FTREADY = os.path.join(ROOT, "build", "ftready")
CORPUS = os.path.join(ROOT, "corpus", "cache_racy")
SOURCE = os.path.join(CORPUS, "ftcorpus_cache.c")
CACHE = os.environ.get("FTREADY_CACHE", os.path.expanduser("~/.cache/ftready"))
TSAN_PY = os.path.join(CACHE, "python", "3.13t-tsan", "prefix", "bin", "python3")


def watch(cmd, env, budget, wanted):
    """Runs cmd; returns ({function: seconds to first report}, stdout)."""
    t0 = time.monotonic()
    first = {}
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
    reader.start()
    for line in p.stderr:
        for fn in wanted:
            if fn not in first and re.search(r"\b%s\b" % fn, line) and (
                    "FTR001" in line or line.startswith("    #0 ")
                    or line.startswith("    #1 ")):
                first[fn] = time.monotonic() - t0
    p.wait(timeout=budget + 120)
    reader.join()
    return first, "".join(out)


def ftready_run(seed, budget, shims, findings, wanted):
    cmd = [FTREADY, "stress", "--sources", SOURCE, "--module", "ftcorpus_cache",
           "--budget", "%ds" % budget, "--seed", str(seed), "--threads", "4",
           "--format", "json", "--jsonl", os.devnull]
    if not shims:
        cmd.append("--no-shims")
    if findings:
        cmd += ["--findings", findings]
    first, out = watch(cmd, dict(os.environ), budget, wanted)
    report = json.loads(out) if out.strip() else {"run": {}}
    calls = int(report["run"].get("calls", 0))
    return first, calls / budget


PLAIN = r"""
import sys, threading, time
sys.path.insert(0, sys.argv[1])
import ftcorpus_cache as mod
budget = float(sys.argv[2]); which = sys.argv[3]
cache = mod.Cache()
def factory(*a): return 1
call = (lambda i: cache.get(i % 8, factory)) if which == "Cache_get" else (lambda i: mod.remember_key("a.b.c"))
barrier = threading.Barrier(4)
calls = [0] * 4
def work(t):
    try:
        while True:
            barrier.wait()
            for i in range(100):
                call(i)
            calls[t] += 100
    except threading.BrokenBarrierError:
        pass  # the budget is over
ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
[t.start() for t in ts]
time.sleep(budget)
barrier.abort()
[t.join() for t in ts]
print(sum(calls))
"""


def plain_run(budget, function, builddir):
    env = dict(os.environ, PYTHON_GIL="0",
               TSAN_OPTIONS="halt_on_error=0 exitcode=0")
    first, out = watch([TSAN_PY, "-c", PLAIN, builddir, str(budget), function],
                       env, budget, [function])
    return first.get(function), int(out.strip() or 0) / budget


def build_plain_module(tmp):
    subprocess.run([FTREADY, "-q", "toolchain"], stdout=subprocess.DEVNULL)
    inc = subprocess.check_output([TSAN_PY, "-c", "import sysconfig; print(sysconfig.get_path('include'))"], text=True).strip()
    suffix = subprocess.check_output([TSAN_PY, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"], text=True).strip()
    subprocess.check_call(["clang-16", "-shared", "-fPIC", "-g", "-O1", "-fsanitize=thread",
                           "-I", inc, SOURCE, "-o", os.path.join(tmp, "ftcorpus_cache" + suffix)])


def fmt(values, budget):
    found = [v for v in values if v is not None]
    rate = "%d/%d" % (len(found), len(values))
    if not found:
        return "not found in %ds (%s)" % (budget, rate)
    return "%.1fs median (%s found)" % (statistics.median(found), rate)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=20)
    a = ap.parse_args()
    truth = json.load(open(os.path.join(CORPUS, "ground_truth.json")))
    wanted = [r["function"] for r in truth["races"]]
    with tempfile.TemporaryDirectory() as tmp:
        sarif = os.path.join(tmp, "scan.sarif")
        subprocess.run([FTREADY, "-q", "scan", "--format", "sarif", "-o", sarif, CORPUS])
        configs = [("guided + shims", True, sarif), ("guided, no shims", False, sarif),
                   ("unguided + shims", True, None), ("unguided, no shims", False, None)]
        results = {c[0]: {fn: [] for fn in wanted} for c in configs}
        rates = {c[0]: [] for c in configs}
        for seed in range(1, a.seeds + 1):
            for name, shims, findings in configs:
                first, rate = ftready_run(seed, a.budget, shims, findings, wanted)
                for fn in wanted:
                    results[name][fn].append(first.get(fn))
                rates[name].append(rate)
        build_plain_module(tmp)
        plain = {fn: [] for fn in wanted}
        plain_rates = []
        for seed in range(1, a.seeds + 1):
            for fn in wanted:
                t, rate = plain_run(a.budget, fn, tmp)
                plain[fn].append(t)
                plain_rates.append(rate)
    print("ftready stress on corpus/cache_racy: %d seeds, %ds budget, 4 threads, 3.13t-tsan" % (a.seeds, a.budget))
    for name, _, _ in configs:
        print("  %-20s %s | calls/s %.0f" % (name, " | ".join(
            "%s: %s" % (fn, fmt(results[name][fn], a.budget)) for fn in wanted),
            statistics.median(rates[name])))
    print("  %-20s %s | calls/s %.0f (one function per run)" % ("plain threading loop", " | ".join(
        "%s: %s" % (fn, fmt(plain[fn], a.budget)) for fn in wanted), statistics.median(plain_rates)))


if __name__ == "__main__":
    sys.exit(main())
