"""Benchmark: which races each way of stressing finds, and how fast (prints
figures; not a test).

  ~/.cache/ftready/python/3.13t/prefix/bin/python3 bench/stress_detection.py \
      [--corpus pairs_racy] [--seeds 5] [--budget 60] [--throughput 20]

For each seeded race of the corpus module (its ground_truth.json `races`:
kind, rule, the C functions it may be placed on), side by side in one
invocation, over `--seeds` runs each:
  - plain loop: what pytest-run-parallel does. Every callable of the module
    in turn, each from 4 threads released by one barrier, the same call in
    every thread, in the same TSan interpreter, for the same budget;
  - ftready unguided: `ftready stress` with no scan results (random pairs
    only, no first-call rounds), with the shims;
  - ftready guided: with the scan's findings and state map, no shims;
  - ftready guided + shims: the same, with the shims (what `check` runs).
A race counts as found when a report names one of its functions: a
ThreadSanitizer report for the plain loop; an FTR001/FTR002/FTR008 finding
for ftready. A run stops when every race is found. Then calls per second
for the plain loop and ftready on the fixed twin (no reports to write),
`--throughput` seconds each, side by side.
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
CACHE = os.environ.get("FTREADY_CACHE", os.path.expanduser("~/.cache/ftready"))
TSAN_DIR = os.path.join(CACHE, "python", "3.13t-tsan")
TSAN_PY = os.path.join(TSAN_DIR, "prefix", "bin", "python3")
THREADS = 4

# Every public callable of the module (and of each type, on one instance),
# in turn: a barrier, then the same call in every thread, `rounds` times.
PLAIN = r"""
import random, sys, threading, time
sys.path.insert(0, sys.argv[1])
mod = __import__(sys.argv[2])
budget, seed, threads = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
only = sys.argv[6] if len(sys.argv) > 6 else None
pool = [0, 1, "a.b.c", b"bytes", None, [1, 2], {"k": 1}, (1, "x")]
calls = []
def accepted(fn):
    for args in [()] + [(v,) for v in pool]:
        try:
            fn(*args)
            return args
        except TypeError:
            continue
        except Exception:
            return args
    return None
for name in sorted(dir(mod)):
    obj = getattr(mod, name)
    if name.startswith("_"):
        continue
    if isinstance(obj, type):
        try:
            inst = obj()
        except Exception:
            continue
        for attr in sorted(vars(obj)):
            if not attr.startswith("_") and callable(getattr(inst, attr, None)):
                if only in (None, name + "." + attr):
                    calls.append(getattr(inst, attr))
    elif callable(obj) and only in (None, name):
        calls.append(obj)
random.Random(seed).shuffle(calls)
# Arguments found now, as a test would have them: not in the timed loop.
work = [(fn, args) for fn in calls for args in [accepted(fn)] if args is not None]
barrier = threading.Barrier(threads)
count = [0] * threads
stop = [False]
def run(t):
    i = 0
    while not stop[0]:
        fn, args = work[i % len(work)]
        i += 1
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        for _ in range(100):
            try:
                fn(*args)
            except Exception:
                pass
        count[t] += 100
ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
[t.start() for t in ts]
time.sleep(budget)
stop[0] = True
barrier.abort()
[t.join() for t in ts]
print(sum(count))
"""


def watch(cmd, env, budget, races, pattern):
    """Runs cmd until every race is found or the budget (plus start-up)
    ends. Returns ({race index: seconds}, stdout)."""
    t0 = time.monotonic()
    first = {}
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
    reader.start()
    timer = threading.Timer(budget + 30, p.kill)
    timer.start()
    for line in p.stderr:
        for i, race in enumerate(races):
            if i not in first and any(pattern(race, fn, line)
                                      for fn in race["functions"]):
                first[i] = time.monotonic() - t0
        if len(first) == len(races):
            p.terminate()
            break
    for _ in p.stderr:
        pass
    p.wait()
    timer.cancel()
    reader.join()
    return first, "".join(out)


def finding_line(race, fn, line):
    # "ftready: info: FTR001 in newest: ..."; a race that needs a kind of
    # round says so in its `words` ("first calls to dumps"): a race of the
    # same function found another way is another race.
    return re.search(r"\b(FTR001|FTR002|FTR008) in %s\b" % re.escape(fn),
                     line) and race.get("words", "") in line


def tsan_frame(race, fn, line):
    # "    #0 newest /path/ftcorpus_pairs.c:33 (...)"
    return re.match(r"\s+#\d+ %s " % re.escape(fn), line)


def ftready_cmd(source, module, seed, budget, shims, sarif, state_map):
    cmd = [FTREADY, "stress", "--sources", source, "--module", module,
           "--budget", "%ds" % budget, "--seed", str(seed), "--threads",
           str(THREADS), "--format", "json", "--jsonl", os.devnull]
    if not shims:
        cmd.append("--no-shims")
    if sarif:
        cmd += ["--findings", sarif]
    if state_map:
        cmd += ["--state-map", state_map]
    return cmd


def plain_env():
    supp = os.path.join(TSAN_DIR, "tsan-suppressions.txt")
    opts = "halt_on_error=0 exitcode=0"
    if os.path.exists(supp):
        opts += " suppressions=" + supp
    return dict(os.environ, PYTHON_GIL="0", TSAN_OPTIONS=opts)


def build_plain_module(source, module, out):
    """The module as the plain loop gets it: -fsanitize=thread, as a
    project's own TSan CI build would, no shims."""
    cc = subprocess.check_output(
        [TSAN_PY, "-c", "import sysconfig; print(sysconfig.get_config_var('CC'))"],
        text=True).split()[0]
    inc = subprocess.check_output(
        [TSAN_PY, "-c", "import sysconfig; print(sysconfig.get_path('include'))"],
        text=True).strip()
    suffix = subprocess.check_output(
        [TSAN_PY, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        text=True).strip()
    subprocess.check_call([cc, "-shared", "-fPIC", "-g", "-O1", "-fsanitize=thread",
                           "-I", inc, source, "-o",
                           os.path.join(out, module + suffix)])


def fmt(values):
    found = [v for v in values if v is not None]
    rate = "%d/%d" % (len(found), len(values))
    if not found:
        return "0/%d" % len(values)
    return "%s, %.1f s" % (rate, statistics.median(found))


def scan(corpus_dir, tmp):
    sarif = os.path.join(tmp, "scan.sarif")
    state_map = os.path.join(tmp, "state.json")
    subprocess.run([FTREADY, "-q", "scan", "--format", "sarif", "-o", sarif,
                    "--state-map", state_map, corpus_dir])
    return sarif, state_map


def detection(a, truth, source, module, tmp):
    races = truth["races"]
    sarif, state_map = scan(os.path.dirname(source), tmp)
    plain_dir = os.path.join(tmp, "plain")
    os.makedirs(plain_dir)
    build_plain_module(source, module, plain_dir)
    configs = [
        ("plain loop", None),
        ("ftready unguided", (True, None, None)),
        ("ftready guided", (False, sarif, state_map)),
        ("ftready guided + shims", (True, sarif, state_map)),
    ]
    if a.configs:
        configs = [c for c in configs if c[0] in a.configs.split(",")]
    found = {name: [[] for _ in races] for name, _ in configs}
    for seed in range(1, a.seeds + 1):
        for name, how in configs:
            if how is None:
                cmd = [TSAN_PY, "-c", PLAIN, plain_dir, module, str(a.budget),
                       str(seed), str(THREADS)]
                first, _ = watch(cmd, plain_env(), a.budget, races, tsan_frame)
            else:
                cmd = ftready_cmd(source, module, seed, a.budget, *how)
                first, _ = watch(cmd, dict(os.environ), a.budget, races,
                                 finding_line)
            for i in range(len(races)):
                found[name][i].append(first.get(i))
            print("  seed %d %-24s %s" % (seed, name, sorted(
                (races[i]["kind"], round(t, 1)) for i, t in first.items())),
                file=sys.stderr, flush=True)
    print("\n| race (kind: functions) | " + " | ".join(n for n, _ in configs) + " |")
    print("|---|" + "---|" * len(configs))
    for i, race in enumerate(races):
        print("| %s: %s | %s |" % (race["kind"], ", ".join(race["functions"]),
                                   " | ".join(fmt(found[n][i])
                                              for n, _ in configs)))
    print("\nfound in N of %d seeds, median seconds to the first report "
          "(from the command's start, build included); %d s budget, "
          "%d threads, 3.13t-tsan" % (a.seeds, a.budget, THREADS))


def throughput(a, truth, source, module, tmp):
    """Calls per second of one callable at a time, plain loop and ftready
    side by side: a whole module's rate depends on how the time is shared
    between quick and slow callables, one callable's does not."""
    twin = os.path.join(ROOT, "corpus", truth["twin"])
    twin_truth = json.load(open(os.path.join(twin, "ground_truth.json")))
    twin_source = os.path.join(twin, twin_truth["sources"][0])
    twin_module = twin_truth["module"]
    sarif, state_map = scan(twin, tmp)
    plain_dir = os.path.join(tmp, "plain-twin")
    os.makedirs(plain_dir)
    build_plain_module(twin_source, twin_module, plain_dir)
    print("\ncalls per second on %s (no races to report), one callable at a "
          "time, %d s each, %d threads:" % (truth["twin"], a.throughput, THREADS))
    print("\n| callable | plain loop | ftready guided | ratio | ftready guided + shims | ratio |")
    print("|---|---|---|---|---|---|")
    for target in a.targets.split(","):
        out = subprocess.run([TSAN_PY, "-c", PLAIN, plain_dir, twin_module,
                              str(a.throughput), "1", str(THREADS), target],
                             env=plain_env(), capture_output=True, text=True).stdout
        plain = int(out.strip() or 0) / a.throughput
        row = [target, "%.0f" % plain]
        for shims in (False, True):
            r = subprocess.run(ftready_cmd(twin_source, twin_module, 1, a.throughput,
                                           shims, sarif, state_map) + ["--only", target],
                               capture_output=True, text=True)
            # Over the time spent in rounds, as the plain loop's: not the
            # build, the import or the argument probes.
            said = json.loads(r.stdout)["run"]["calls per second"]
            rate = float(said.split()[0]) if said != "none" else 0.0
            row += ["%.0f" % rate, "%.2fx" % (rate / plain if plain else 0)]
        print("| " + " | ".join(row) + " |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="pairs_racy")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--throughput", type=int, default=20,
                    help="seconds per throughput run; 0: none")
    ap.add_argument("--targets", default="newest,Label.length,record,dumps",
                    help="callables of the twin for the throughput table")
    ap.add_argument("--configs", default="",
                    help="comma-separated configurations to run (default all)")
    ap.add_argument("--no-detection", action="store_true")
    a = ap.parse_args()
    corpus_dir = os.path.join(ROOT, "corpus", a.corpus)
    truth = json.load(open(os.path.join(corpus_dir, "ground_truth.json")))
    for race in truth["races"]:  # cache_racy's older form
        race.setdefault("functions", [race.get("function")])
        race.setdefault("kind", "same call")
    source = os.path.join(corpus_dir, truth["sources"][0])
    module = truth["module"]
    with tempfile.TemporaryDirectory() as tmp:
        if not a.no_detection:
            detection(a, truth, source, module, tmp)
        if a.throughput:
            throughput(a, truth, source, module, tmp)


if __name__ == "__main__":
    sys.exit(main())
