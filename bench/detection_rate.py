"""How often does one run find what the tests expect it to find? (prints figures)

  ~/.cache/ftready/python/3.13t/prefix/bin/python3 bench/detection_rate.py [--runs N]

The tests run each probabilistic detection once, without retry. This
measures, over N runs with different seeds, at the budget each test uses:
- `ftready stress` on each seeded race of the corpus (the races of
  corpus/*/ground_truth.json, and corpus/hidden_race);
- the TsanRace test (a fixed hammer script, no ftready), repeated with
  --gtest_repeat: how often it passes.
Runs one at a time (the machine has 2 cores); a rate below N/N means the test
that depends on it can fail by chance, and its budget should grow.
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FTREADY = os.path.join(BUILD, "ftready")
CORPUS = os.path.join(ROOT, "corpus")

# target, how ftready stress is pointed at it, its budget in the tests, and
# the (rule, function) findings a run must give.
TARGETS = [
    ("cache_racy", ["--sources", os.path.join(CORPUS, "cache_racy", "ftcorpus_cache.c"),
                    "--module", "ftcorpus_cache"], "20s",
     [("FTR001", "Cache_get"), ("FTR001", "remember_key")]),
    ("setuptools_project", [os.path.join(CORPUS, "setuptools_project")], "15s",
     [("FTR001", "hit")]),
    ("hidden_race", ["--sources", os.path.join(CORPUS, "hidden_race", "ftcorpus_hidden.c"),
                     "--module", "ftcorpus_hidden"], "20s",
     [("FTR001", "bump")]),
]


def stress_once(args, budget, seed):
    cmd = [FTREADY, "-q", "stress"] + args + [
        "--budget", budget, "--seed", str(seed), "--threads", "4",
        "--format", "json",
        "--jsonl", os.devnull]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    found = set()
    try:
        for f in json.loads(r.stdout)["findings"]:
            found.add((f["rule"], f["function"]))
    except (ValueError, KeyError):
        pass
    return found, time.monotonic() - t0


def gtest_passes(binary, test, runs):
    cmd = [os.path.join(BUILD, "tests", binary), "--gtest_filter=" + test,
           "--gtest_repeat=%d" % runs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stdout.count("[       OK ] " + test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not os.access(FTREADY, os.X_OK):
        sys.exit("no %s: build first" % FTREADY)
    print("| target | budget | expected finding | found in | mean run (s) |")
    print("|---|---|---|---|---|")
    for name, args, budget, wanted in TARGETS:
        hits = {w: 0 for w in wanted}
        seconds = []
        # Seed 0 first: the one the tests use.
        for seed in range(a.runs):
            found, s = stress_once(args, budget, seed)
            seconds.append(s)
            for w in wanted:
                hits[w] += w in found
        for w in wanted:
            print("| %s | %s | %s %s | %d/%d | %.1f |" % (
                name, budget, w[0], w[1], hits[w], a.runs,
                sum(seconds) / len(seconds)))
        sys.stdout.flush()
    test = "TsanRace.RacyCorpusModuleReportsItsRacyFunctions"
    t0 = time.monotonic()
    passed = gtest_passes("runtime_tests", test, a.runs)
    print("| %s (no ftready) | fixed script | Cache_get and remember_key | %d/%d | %.1f |" % (
        test, passed, a.runs, (time.monotonic() - t0) / a.runs))


if __name__ == "__main__":
    main()
