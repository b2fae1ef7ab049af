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
import weakref

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
    """(arguments the callable accepts single-threaded, their indices in
    value_pool()), or None. The indices let a fresh process rebuild the
    same arguments without calling the target first."""
    pool = value_pool()
    known = arity_from_signature(fn)
    arities = [known] if known is not None else [0, 1, 2, 3]
    fallback = None
    for arity in arities:
        for _ in range(tries if arity else 1):
            picks = [rng.randrange(len(pool)) for _ in range(arity)]
            args = tuple(pool[i] for i in picks)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(*args)
                return args, picks
            except TypeError:
                continue
            except Exception:  # accepted, but raised: keep looking
                if fallback is None:
                    fallback = (args, picks)
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


def wanted_by(only, name):
    """Is module attribute `name` (a function, or a type whose methods are
    "name.method") among the targets `only` names? All are when empty."""
    return not only or any(t == name or t.startswith(name + ".") for t in only)


def discover(mod, rng, exclude=(), only=()):
    """(name, callable) for module functions, type methods and properties
    (read and written, as "Type.prop (get)" / "Type.prop (set)"). With
    `only`, types none of whose targets are wanted are not constructed."""
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
        if not wanted_by(only, name):
            continue
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


class Crew:
    """The same threads for every round of the run: starting threads per
    round costs more than the calls under TSan (a tenth of the plain
    loop's rate), and would let thread start-up order the calls."""

    def __init__(self, size):
        self.size = size
        self.start = threading.Barrier(size + 1)
        self.done = threading.Barrier(size + 1)
        self.job = None
        self.escaped = []
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True)
                        for i in range(size)]
        for t in self.threads:
            t.start()

    def work(self, i):
        while True:
            self.start.wait()
            try:
                self.job(i)
            except BaseException as e:  # SystemExit, CancelledError...
                # The thread stays in the crew: a dead one would leave the
                # next round waiting for it, a hang blamed on the next target.
                self.escaped.append(type(e).__name__)
            finally:
                self.done.wait()

    def run(self, job):
        """job(i) in every thread; returns when all are done, with the
        names of exceptions that escaped a thread (said as errors)."""
        self.job = job
        self.escaped = []
        self.start.wait()
        self.done.wait()
        return self.escaped


def renewed(args, mortal):
    """The arguments with each list, dict and user object replaced by a
    fresh copy that dies when the call returns, and each weak reference by
    one to a new object that only `mortal` keeps alive (another thread
    empties it): lifetimes end during and right after calls, as a module's
    borrowed pointers must survive."""
    out = []
    for a in args:
        if isinstance(a, list):
            out.append(list(a))
        elif isinstance(a, dict):
            out.append(dict(a))
        elif isinstance(a, Plain):
            out.append(Plain())
        elif isinstance(a, weakref.ref):
            target = Plain()
            mortal.append(target)
            out.append(weakref.ref(target))
        else:
            out.append(a)
    return tuple(out)


def shared_objects(calls):
    return [a for _, args in calls for a in args
            if isinstance(a, (list, dict, Plain))]


def has_module_containers(mod):
    return mod is not None and any(
        isinstance(v, (list, dict)) for n, v in vars(mod).items()
        if not n.startswith("__"))


def mutating_threads(calls, threads, mutators, mod):
    """How many of the threads change the shared objects instead of
    calling: none when nothing is shared."""
    if shared_objects(calls) or has_module_containers(mod):
        return min(mutators, threads - 2)
    return 0


def run_rounds(crew, calls, rounds, iterations, mutators, rng, mod=None):
    """`rounds` barrier-started rounds of `iterations` calls per caller
    thread of the crew. `calls` is [(fn, args)]: caller thread i makes the
    calls of calls[i % len(calls)], so two different calls run at once when
    two are given. Returns {exception type: count}."""
    threads = crew.size
    shared = shared_objects(calls)
    # Module-level containers are only rebound to equal copies: clearing
    # them would change what the module means, not test its thread safety.
    module_level = has_module_containers(mod)
    mutating = mutating_threads(calls, threads, mutators, mod)
    callers = threads - mutating
    barrier = threading.Barrier(threads)
    finished = [0]  # caller rounds finished, under lock
    errors = {}
    lock = threading.Lock()
    seeds = [rng.random() for _ in range(threads)]
    # With three callers or more, the last passes temporaries (see renewed)
    # while the others pass the shared objects.
    temporaries = callers - 1 if callers >= 3 else -1
    mortal = []

    def call(fn, args, fresh=False):
        mine = {}
        try:
            for _ in range(rounds):
                barrier.wait()
                try:
                    for _ in range(iterations):
                        try:
                            fn(*(renewed(args, mortal) if fresh else args))
                        except Exception as e:
                            name = type(e).__name__
                            mine[name] = mine.get(name, 0) + 1
                        if fresh and len(mortal) > 64:
                            mortal.clear()
                finally:
                    with lock:
                        finished[0] += 1
        except BaseException:
            # Out of the round for good: the others must not wait for it.
            barrier.abort()
            raise
        finally:
            with lock:
                for k, v in mine.items():
                    errors[k] = errors.get(k, 0) + v

    def churn(seed):
        local = random.Random(seed)
        try:
            for r in range(rounds):
                barrier.wait()
                while True:
                    with lock:
                        if finished[0] >= callers * (r + 1):
                            break
                    mutate_once(shared, local)
                    mortal.clear()  # the temporaries' referents die now
                    if module_level and local.random() < 0.05:
                        try:
                            replace_module_containers(mod, local)
                        except Exception:
                            pass  # a container type that cannot be copied
        except threading.BrokenBarrierError:
            pass  # a caller left the round

    def job(i):
        if i < callers:
            fn, args = calls[i % len(calls)]
            call(fn, args, i == temporaries and any(
                isinstance(a, (list, dict, Plain, weakref.ref)) for a in args))
        else:
            churn(seeds[i])

    for name in crew.run(job):
        if name != "BrokenBarrierError":
            errors[name] = errors.get(name, 0) + 1
    return errors


class PairSchedule:
    """Which two targets run together next: the state map's pairs (a
    writer and another callable of the same state) first, in its order,
    then two targets chosen at random."""

    def __init__(self, prepared, pairs, rng, exclude=()):
        by_name = {t[0]: t for t in prepared}
        # A pair that crashed or hung an earlier child is not run again.
        self.exclude = set(exclude)
        self.mapped = [(by_name[a], by_name[b]) for a, b in pairs
                       if a in by_name and b in by_name and a != b
                       and not self.excluded(a, b)]
        self.prepared = prepared
        self.rng = rng
        self.turn = 0

    def excluded(self, a, b):
        return a + " + " + b in self.exclude or b + " + " + a in self.exclude

    def next(self):
        self.turn += 1
        if self.mapped and (self.turn % 4 or len(self.prepared) < 3):
            return self.mapped[(self.turn - 1) % len(self.mapped)]
        if len(self.prepared) < 2:
            return None
        for _ in range(8):
            a, b = self.rng.sample(self.prepared, 2)
            if not self.excluded(a[0], b[0]):
                return a, b
        return None


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


def discover_targets(cfg, mod, rng, watchdog):
    emit("phase", name="discover", seconds=cfg["import_seconds"])
    watchdog.start(cfg["import_seconds"])
    only = cfg.get("only") or []
    targets = [(n, fn, None) for n, fn in discover(mod, rng, cfg["exclude"], only)]
    if cfg.get("scenario"):
        targets += [(n, fn, (args, None))
                    for n, fn, args in scenario_targets(cfg["scenario"], mod)]
    watchdog.stop()
    names = {t[0] for t in targets}
    for name in only if not cfg.get("first_call") else ():
        if name not in names:
            emit("note", text="--only %s: no such target (the module's are "
                 "named like 'function' and 'Type.method')" % name)
    return [t for t in targets if t[0] not in cfg["exclude"]
            and (not only or t[0] in only)]


def prepare(cfg, targets, rng, watchdog, wanted=None):
    """(name, fn, args, weight, mutators) for each target whose arguments
    are found, calling each from one thread; `wanted`: only those."""
    hints = cfg.get("hints", [])
    prepared = []
    for name, fn, given in targets:
        if wanted is not None and name not in wanted:
            continue
        # Said first: a crash while probing arguments is this target's.
        emit("probe", target=name, seconds=cfg["hang_seconds"])
        watchdog.start(cfg["hang_seconds"])
        found = given if given is not None else find_arguments(fn, rng)
        watchdog.stop()
        if found is None:
            emit("skipped", target=name, reason="no accepted arguments found")
            continue
        args, picks = found
        weight, mutators = steering(name, hints, cfg["threads"])
        prepared.append((name, fn, args, weight, mutators))
        emit("target", target=name, args=[type(a).__name__ for a in args],
             picks=picks, weight=weight, mutators=mutators)
    return prepared


def first_calls(cfg, mod, rng, watchdog):
    """A fresh process's first calls of one target: every thread makes its
    first call at one barrier, so a lazy initialisation with no lock runs
    in several threads at once. Only the target's own type is constructed
    first. With "control", one thread makes the same number of calls alone:
    how often the initialisation's calls run with no concurrency."""
    spec = cfg["first_call"]
    target = spec["target"]
    cfg = dict(cfg, only=[target])
    targets = {n: (fn, given) for n, fn, given in discover_targets(cfg, mod, rng, watchdog)}
    pool = value_pool()
    picks = spec.get("picks") or []
    if target not in targets or any(
            not isinstance(i, int) or not 0 <= i < len(pool) for i in picks):
        emit("note", text="%s: no first calls, the target was not found "
             "again in a fresh process" % target)
        emit("done", calls=0, reason="first-call target not found")
        return
    fn, given = targets[target]
    args = given[0] if given else tuple(pool[i] for i in picks)
    threads = 1 if spec.get("control") else cfg["threads"]
    each = 3 * (cfg["threads"] // threads)
    emit("round", target=target + " (first calls)", round=0,
         seconds=cfg["hang_seconds"])
    watchdog.start(cfg["hang_seconds"])
    barrier = threading.Barrier(threads)

    def first():
        barrier.wait()
        for _ in range(each):
            try:
                fn(*args)
            except Exception:
                pass

    pool_threads = [threading.Thread(target=first) for _ in range(threads)]
    for t in pool_threads:
        t.start()
    for t in pool_threads:
        t.join()
    watchdog.stop()
    emit("done", calls=each * threads, rounds=1)


def alone(calls, cfg, watchdog, name):
    """The same calls from one thread: which errors are normal."""
    emit("probe", target=name, seconds=cfg["hang_seconds"])
    watchdog.start(cfg["hang_seconds"])
    baseline = {}
    for fn, args in calls:
        for _ in range(3):
            try:
                fn(*args)
            except Exception as e:
                baseline[type(e).__name__] = 1
    watchdog.stop()
    return baseline


def stress_loop(cfg, mod, prepared, rng, watchdog):
    # The harness's clock: CLOCK_MONOTONIC, shared by every process.
    deadline = cfg["deadline"]
    start = time.monotonic()
    calls = 0
    rounds = 0
    pairs = PairSchedule(prepared, cfg.get("pairs", []), rng, cfg["exclude"])
    crew = Crew(cfg["threads"])
    baselines = {}
    per_round = {}  # calls per thread per round, grown for quick calls
    # Round robin, each target as many times in a row as its weight: targets
    # with static findings get the most time. Every third turn runs two
    # different targets at once.
    turn = 0
    while time.monotonic() < deadline and rounds < cfg["max_rounds"]:
        pair = pairs.next() if turn % 3 == 2 else None
        if pair:
            (a, fa, xa, wa, ma), (b, fb, xb, wb, mb) = pair
            name, chosen = a + " + " + b, [(fa, xa), (fb, xb)]
            weight, mutators = max(wa, wb, 2), max(ma, mb)
        else:
            name, fn, args, weight, mutators = prepared[(turn - turn // 3) % len(prepared)]
            chosen = [(fn, args)]
        turn += 1
        if name not in baselines:  # once: calls alone raise the same
            baselines[name] = alone(chosen, cfg, watchdog, name)
        baseline = baselines[name]
        seconds = cfg["hang_seconds"] * weight
        emit("round", target=name, round=rounds, seconds=seconds)
        iterations = per_round.get(name, cfg["iterations"])
        began = time.monotonic()
        watchdog.start(seconds)
        errors = run_rounds(crew, chosen, weight, iterations, mutators, rng, mod)
        watchdog.stop()
        # Quick calls get more per round, up to a twentieth of a second:
        # arming the watchdog and releasing the barrier cost more than such
        # calls. Never near the hang limit: a slower round later (grown
        # state, contention) must not pass it.
        took = time.monotonic() - began
        if took < 0.05 * weight and took * 2 < seconds / 20 and iterations < 20000:
            per_round[name] = iterations * 2
        calls += iterations * (cfg["threads"] - mutating_threads(
            chosen, cfg["threads"], mutators, mod)) * weight
        rounds += weight
        new = {k: v for k, v in errors.items() if k not in baseline}
        # Two different calls may raise by their order alone (pop before
        # push): only one call's own errors say something about threads.
        if new and not pair:
            emit("concurrency_errors", target=name, errors=new)
        emit("progress", calls=calls, rounds=rounds,
             elapsed=round(time.monotonic() - start, 2))
    emit("done", calls=calls, rounds=rounds)


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
    if mod is None:
        emit("done", calls=0, reason="import probe")
        return
    if cfg.get("first_call"):
        first_calls(cfg, mod, rng, watchdog)
        return
    if cfg.get("probe_only"):
        # The arguments of the targets to call first in fresh processes.
        wanted = cfg.get("arguments_for") or []
        if wanted:
            prepare(cfg, discover_targets(cfg, mod, rng, watchdog), rng,
                    watchdog, set(wanted))
        emit("done", calls=0, reason="import probe")
        return
    prepared = prepare(cfg, discover_targets(cfg, mod, rng, watchdog), rng, watchdog)
    if not prepared:
        emit("done", calls=0, reason="nothing to call")
        return
    stress_loop(cfg, mod, prepared, rng, watchdog)


if __name__ == "__main__":
    main()
