"""ftready stress driver: runs inside the interpreter under test.

The harness (stress/src/stress_run.cpp) starts it in a child process with one
JSON argument. It imports the module, discovers what can be called, then for
each target runs rounds of concurrent calls over shared objects while other
threads mutate those objects.

The module under test is hostile: it may print anything, close or redirect
file descriptors 0-2, fork, crash, exit or hang. So every event goes, as one
JSON line, to a private pipe on a descriptor the harness chose ("event_fd"),
never to stdout or stderr. ThreadSanitizer writes its reports to files
(log_path), and the watchdog's thread dump goes to a file ("dump_path"). The
harness reads its log files each time an event arrives: a report written
before the event is the running phase's.
"""

import faulthandler
import importlib
import importlib.util
import json
import os
import types
import random
import sys
import threading
import time
import warnings

EVENT_FD = None  # set by main() from the configuration
HANG_SECONDS = [30]  # likewise


def emit(event, **fields):
    """One event, one write(): whole lines, whatever else runs."""
    fields["event"] = event
    line = (json.dumps(fields, default=repr) + "\n").encode("utf-8", "replace")
    try:
        os.write(EVENT_FD, line)
    except OSError:
        # The module closed (or took over) the channel: nothing this process
        # does can be told any more. Exit 70 says so to the harness.
        os._exit(70)


class Watchdog:
    """faulthandler's timer, writing every thread's Python stack to the dump
    file when a phase outlives its time; the harness watches that file."""

    def __init__(self, dump):
        self.dump = dump

    def start(self, seconds):
        faulthandler.dump_traceback_later(max(seconds, 1), exit=False,
                                          file=self.dump)

    def stop(self):
        faulthandler.cancel_dump_traceback_later()
        # A dump written just before the phase ended is no hang: empty the
        # file so that the harness never reads it as the next phase's.
        try:
            os.ftruncate(self.dump.fileno(), 0)
            os.lseek(self.dump.fileno(), 0, os.SEEK_SET)
        except OSError:
            pass


class Plain:
    """A user object for attribute churn."""


def value_pool():
    """Fresh values of common types; containers are shared across threads."""
    return [
        0, 1, 7, -3, 2**40, 0.5, "a.b.c", "key", b"bytes", None, True,
        [1, 2, 3], {"k": 1, "j": 2}, (1, "x"), lambda *a, **k: 1, Plain(),
    ]


def arity_from_signature(fn):
    sig = getattr(fn, "__text_signature__", None)
    if not sig:
        return None
    params = [p.strip() for p in sig.strip("()").split(",") if p.strip()]
    params = [p for p in params if p not in ("$self", "$module", "/", "*")]
    return len([p for p in params if "=" not in p and not p.startswith("*")])


def find_arguments(fn, rng, tries=60):
    """Arguments the callable accepts single-threaded, or None."""
    pool = value_pool()
    known = arity_from_signature(fn)
    arities = [known] if known is not None else [0, 1, 2, 3]
    fallback = None
    for arity in arities:
        for _ in range(tries if arity else 1):
            args = tuple(rng.choice(pool) for _ in range(arity))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(*args)
                return args
            except TypeError:
                continue
            except Exception:  # accepted, but raised: keep looking
                if fallback is None:
                    fallback = args
    return fallback


def make_instance(cls, rng):
    for args in [(), ] + [(v,) for v in value_pool()]:
        try:
            return cls(*args)
        except Exception:
            continue
    return None


def is_property(cls, attr):
    import inspect
    d = inspect.getattr_static(cls, attr, None)
    return (inspect.isgetsetdescriptor(d) or inspect.ismemberdescriptor(d)
            or isinstance(d, property))


def discover(mod, rng, exclude=()):
    """(name, callable) for module functions, type methods and properties
    (read and written, as "Type.prop (get)" / "Type.prop (set)")."""
    targets = []
    for name in sorted(dir(mod)):
        if name.startswith("__"):
            continue
        obj = getattr(mod, name)
        # "_crc32" in "_crcfunext": a C module's private functions are the
        # API its Python wrapper calls; a re-exported helper is not its own.
        if name.startswith("_") and not (
                isinstance(obj, (type, types.BuiltinFunctionType))
                and getattr(obj, "__module__", None) in (mod.__name__, None)):
            continue
        if name in exclude:
            continue  # it crashed or hung an earlier child
        if isinstance(obj, type):
            # Said first: a crash in its constructor is this type's.
            emit("probe", target=name, seconds=HANG_SECONDS[0])
            inst = make_instance(obj, rng)
            if inst is None:
                emit("skipped", target=name, reason="no constructor arguments found")
                continue
            for attr in sorted(vars(obj)):
                if attr.startswith("__"):
                    continue
                if is_property(obj, attr):
                    targets.append(("%s.%s (get)" % (name, attr),
                                    lambda i=inst, a=attr: getattr(i, a)))
                    targets.append(("%s.%s (set)" % (name, attr),
                                    lambda v, i=inst, a=attr: setattr(i, a, v)))
                elif callable(getattr(inst, attr, None)):
                    targets.append((name + "." + attr, getattr(inst, attr)))
        elif callable(obj):
            targets.append((name, obj))
    return targets


def scenario_targets(path, mod):
    """A user scenario file, the way a test sets things up: it defines
    scenario(mod) returning (name, callable, args) triples; lists, dicts and
    objects in args are shared by all threads and mutated by the churn."""
    namespace = {"__name__": "ftready_scenario", "mod": mod}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), namespace)
    return [(name, fn, tuple(args)) for name, fn, args in namespace["scenario"](mod)]


def mutate_once(objects, rng):
    """One mutation of each object the calls share."""
    for obj in objects:
        try:
            if isinstance(obj, list):
                rng.choice([obj.clear, lambda: obj.append(rng.random()),
                            lambda: obj.extend([1, 2, 3])])()
            elif isinstance(obj, dict):
                rng.choice([obj.clear, lambda: obj.update({rng.randrange(64): 1}),
                            lambda: obj.pop(rng.randrange(64), None)])()
            elif hasattr(obj, "__dict__"):
                setattr(obj, "attr%d" % rng.randrange(4), rng.random())
        except Exception:
            pass


def replace_module_containers(mod, rng):
    """Rebinds a module-level list or dict to a copy: code that cached the
    old object, or reads the attribute twice, sees two different ones."""
    names = [n for n, v in vars(mod).items()
             if not n.startswith("__") and isinstance(v, (list, dict))]
    if names:
        n = rng.choice(names)
        v = getattr(mod, n)
        setattr(mod, n, type(v)(v))


def run_rounds(fn, args, threads, rounds, iterations, mutators, rng, mod=None):
    """`rounds` barrier-started rounds of `iterations` calls per caller
    thread, the same threads throughout (a new thread per round would let
    thread start-up order the calls). Returns {exception type: count}."""
    shared = [a for a in args if isinstance(a, (list, dict, Plain))]
    # Module-level containers are only rebound to equal copies: clearing
    # them would change what the module means, not test its thread safety.
    module_level = mod is not None and any(
        isinstance(v, (list, dict)) for n, v in vars(mod).items()
        if not n.startswith("__"))
    mutating = min(mutators, threads - 2) if shared or module_level else 0
    callers = threads - mutating
    barrier = threading.Barrier(threads)
    finished = [0]  # caller rounds finished, under lock
    errors = {}
    lock = threading.Lock()

    def call():
        for _ in range(rounds):
            barrier.wait()
            for _ in range(iterations):
                try:
                    fn(*args)
                except Exception as e:
                    with lock:
                        errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            with lock:
                finished[0] += 1

    def churn(seed):
        local = random.Random(seed)
        for r in range(rounds):
            barrier.wait()
            while True:
                with lock:
                    if finished[0] >= callers * (r + 1):
                        break
                mutate_once(shared, local)
                if module_level and local.random() < 0.05:
                    replace_module_containers(mod, local)

    pool = [threading.Thread(target=call) for _ in range(callers)]
    pool += [threading.Thread(target=churn, args=(rng.random(),)) for _ in range(mutating)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


def matches(c_function, target):
    """Does the C function implement the Python target? By the names C
    extensions use: Cache_get, cache_get_impl -> Cache.get; remember_key ->
    remember_key."""
    c = c_function.lower()
    if c.endswith("_impl"):
        c = c[: -len("_impl")]
    method = target.lower().split(".")[-1]
    return c == method or c.endswith("_" + method)


def steering(name, hints, threads):
    """(rounds in a row, mutator threads) for a target, from static hints."""
    rules = {rule for fn, rule in hints if matches(fn, name)}
    if not rules:
        return 1, max(1, threads // 4)
    mutators = max(1, threads // 3) if rules & {"FT001", "FT003"} else 0
    return 5, mutators


def load_module(name, so_file):
    """The extension under test. When its package's Python part does not
    import (a version file its build would generate, a pure-Python
    dependency), the extension itself is loaded from its file, and the
    report says so."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        if "." not in name or not so_file:
            raise
        spec = importlib.util.spec_from_file_location(name, so_file)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[name] = mod
        emit("note", text="loaded from %s: its package did not import (%s: %s)"
             % (so_file, type(e).__name__, e))
        return mod


def import_phase(cfg, watchdog):
    """Imports the module under the watchdog; says whether the GIL came back
    and what RuntimeWarning said so. None when it raised (said as an
    event: a Python error is the module's setup, not a crash)."""
    emit("phase", name="import", seconds=cfg["import_seconds"])
    watchdog.start(cfg["import_seconds"])
    before = sys._is_gil_enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mod = load_module(cfg["module"], cfg.get("file", ""))
        except BaseException as e:  # SystemExit too: sys.exit() in init
            import traceback
            # Short enough for one atomic write (PIPE_BUF is 4096 bytes).
            emit("import_error", error="".join(
                traceback.format_exception(type(e), e, e.__traceback__))[-3000:])
            return None
    watchdog.stop()
    emit("imported", before=before, after=sys._is_gil_enabled(),
         warning="; ".join(str(w.message) for w in caught
                           if issubclass(w.category, RuntimeWarning)))
    return mod


def start_fork_watch(cfg):
    """The harness's fork watcher (a small C library): says, on the event
    channel, every fork() the process makes and how many threads it had."""
    if not cfg.get("forkwatch"):
        return
    try:
        import ctypes
        ctypes.CDLL(cfg["forkwatch"]).ftready_forkwatch_start(EVENT_FD)
    except Exception as e:  # no ctypes: forks are not seen, and said so
        emit("note", text="forks are not watched: %s" % e)


def main():
    global EVENT_FD
    cfg = json.loads(sys.argv[1])
    EVENT_FD = cfg["event_fd"]
    HANG_SECONDS[0] = cfg["hang_seconds"]
    # Not for what the module starts (posix_spawn, system()): theirs are
    # other processes' descriptors.
    os.set_inheritable(EVENT_FD, False)
    rng = random.Random(cfg["seed"])
    dump = open(cfg["dump_path"], "w")
    watchdog = Watchdog(dump)
    if not cfg["tsan"]:
        # Under TSan, its own SEGV handler gives native stacks; two fatal
        # signal handlers in a crashing multi-threaded process can hang.
        faulthandler.enable(file=open(cfg["crash_path"], "w"), all_threads=True)
    start_fork_watch(cfg)
    sys.path.insert(0, cfg["path"])
    mod = import_phase(cfg, watchdog)
    if mod is None or cfg.get("probe_only"):
        emit("done", calls=0, reason="import probe")
        return
    emit("phase", name="discover", seconds=cfg["import_seconds"])
    watchdog.start(cfg["import_seconds"])
    targets = [(n, fn, None) for n, fn in discover(mod, rng, cfg["exclude"])]
    if cfg.get("scenario"):
        targets += scenario_targets(cfg["scenario"], mod)
    watchdog.stop()
    targets = [t for t in targets if t[0] not in cfg["exclude"]]
    hints = cfg.get("hints", [])
    prepared = []
    for name, fn, given in targets:
        # Said first: a crash while probing arguments is this target's.
        emit("probe", target=name, seconds=cfg["hang_seconds"])
        watchdog.start(cfg["hang_seconds"])
        args = given if given is not None else find_arguments(fn, rng)
        watchdog.stop()
        if args is None:
            emit("skipped", target=name, reason="no accepted arguments found")
            continue
        weight, mutators = steering(name, hints, cfg["threads"])
        prepared.append((name, fn, args, weight, mutators))
        emit("target", target=name, args=[type(a).__name__ for a in args],
             weight=weight, mutators=mutators)
    if not prepared:
        emit("done", calls=0, reason="nothing to call")
        return
    # The harness's clock: CLOCK_MONOTONIC, shared by every process.
    deadline = cfg["deadline"]
    start = time.monotonic()
    calls = 0
    rounds = 0
    # Round robin, each target as many times in a row as its weight: targets
    # with static findings get the most time.
    turn = 0
    while time.monotonic() < deadline and rounds < cfg["max_rounds"]:
        name, fn, args, weight, mutators = prepared[turn % len(prepared)]
        turn += 1
        emit("probe", target=name, seconds=cfg["hang_seconds"])
        watchdog.start(cfg["hang_seconds"])
        baseline = {}
        for _ in range(3):  # the same calls alone: which errors are normal
            try:
                fn(*args)
            except Exception as e:
                baseline[type(e).__name__] = 1
        watchdog.stop()
        seconds = cfg["hang_seconds"] * weight
        emit("round", target=name, round=rounds, seconds=seconds)
        watchdog.start(seconds)
        errors = run_rounds(fn, args, cfg["threads"], weight, cfg["iterations"],
                            mutators, rng, mod)
        watchdog.stop()
        calls += cfg["iterations"] * cfg["threads"] * weight
        rounds += weight
        new = {k: v for k, v in errors.items() if k not in baseline}
        if new:
            emit("concurrency_errors", target=name, errors=new)
        emit("progress", calls=calls, rounds=rounds,
             elapsed=round(time.monotonic() - start, 2))
    emit("done", calls=calls, rounds=rounds)


if __name__ == "__main__":
    main()
