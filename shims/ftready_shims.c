/* ftready shims: linked into an extension that `ftready stress` builds, with
 * -Wl,--wrap=<API> for each borrowed-reference C API below, so that every
 * call the extension makes to them comes here first.
 *
 * Three jobs:
 *  - widen race windows: with probability FTREADY_SHIM_YIELD_PERMILLE/1000,
 *    spin FTREADY_SHIM_SPIN iterations right after handing out a borrowed
 *    reference, while the caller holds it and nothing protects it;
 *  - record which call sites ran concurrently with another hazardous call
 *    (another thread inside one of these APIs at the same moment), and write
 *    them to FTREADY_SHIM_LOG (JSON lines) when the process exits;
 *  - count, per call site, the calls of APIs that make something once
 *    (an import, an attribute, a new container or type): in a fresh
 *    process whose threads make their first calls at once, a lazy
 *    initialisation whose call site ran twice ran in two threads, whether
 *    or not ThreadSanitizer saw it (the interpreter's own locks inside the
 *    call order the threads for it). There, the first calls at each making
 *    site are held FTREADY_SHIM_HOLD_US microseconds after they return, so
 *    that the other threads, released at the same barrier, reach the
 *    unguarded check while the first is still inside the initialisation,
 *    however loaded the machine (a delay injected at the window, not a
 *    change of outcome: a guarded initialisation stays single).
 *
 * Plain C, no Python.h needed: the APIs are declared with opaque types. The
 * state is process-wide by nature (it observes the whole process), kept in
 * atomics, and never allocates on the hot path. It is compiled without
 * -fsanitize=thread on purpose: TSan must not see its atomics, or they would
 * order the threads and hide the very races the run is looking for.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct _object PyObject;
typedef intptr_t Py_ssize_t;
typedef struct PyCriticalSection PyCriticalSection;

enum { SHIM_SITES = 512 };

struct site {
    _Atomic uintptr_t address; /* return address in the extension; 0: free */
    _Atomic(const char *) api;
    atomic_ulong calls;
    atomic_ulong concurrent; /* calls that overlapped another hazardous call */
    atomic_int init;         /* a making API's site: counted, not a hazard */
};

static struct site sites[SHIM_SITES];
static atomic_int inflight;          /* threads inside a wrapped API */
static atomic_ulong spins_done;
static atomic_int yield_permille = -1; /* read once from the environment */
static atomic_int spin_iterations;
static _Thread_local uint32_t rng_state;

static void
read_settings(void)
{
    const char *p = getenv("FTREADY_SHIM_YIELD_PERMILLE");
    const char *s = getenv("FTREADY_SHIM_SPIN");
    /* every thread that gets here stores the same values */
    atomic_store(&spin_iterations, s ? atoi(s) : 2000);
    atomic_store(&yield_permille, p ? atoi(p) : 0);
}

static uint32_t
next_random(void)
{
    if (rng_state == 0)
        rng_state = (uint32_t)(uintptr_t)&rng_state | 1u;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static struct site *
site_for(uintptr_t address, const char *api)
{
    uintptr_t h = (address >> 2) % SHIM_SITES;
    for (int i = 0; i < SHIM_SITES; i++) {
        struct site *s = &sites[(h + (uintptr_t)i) % SHIM_SITES];
        uintptr_t seen = atomic_load(&s->address);
        if (seen == address)
            return s;
        if (seen == 0) {
            uintptr_t expected = 0;
            if (atomic_compare_exchange_strong(&s->address, &expected, address)) {
                atomic_store(&s->api, api);
                return s;
            }
            if (expected == address)
                return s;
        }
    }
    return NULL; /* table full: the call is still made, just not recorded */
}

static void
enter(uintptr_t address, const char *api)
{
    int others = atomic_fetch_add(&inflight, 1);
    struct site *s = site_for(address, api);
    if (s) {
        atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
        if (others > 0)
            atomic_fetch_add_explicit(&s->concurrent, 1, memory_order_relaxed);
    }
}

/* After the borrowed reference is handed out and before the caller uses it:
 * maybe hold the window open. */
static void
leave(void)
{
    if (atomic_load_explicit(&yield_permille, memory_order_relaxed) < 0)
        read_settings();
    int permille = atomic_load_explicit(&yield_permille, memory_order_relaxed);
    if (permille > 0 && (int)(next_random() % 1000) < permille) {
        int n = atomic_load_explicit(&spin_iterations, memory_order_relaxed);
        for (volatile int i = 0; i < n; i++) {
        }
        sched_yield();
        atomic_fetch_add_explicit(&spins_done, 1, memory_order_relaxed);
    }
    atomic_fetch_sub(&inflight, 1);
}

#define RETURN_ADDRESS() ((uintptr_t)__builtin_return_address(0))

/* Counted only where FTREADY_SHIM_COUNT_MAKING is set (the first-call
 * processes): elsewhere these calls are the hot path, and their sites would
 * fill the table the borrowed-reference sites need. */
static atomic_int count_making_on = -1;
static atomic_long hold_microseconds;

enum { HELD_CALLS_PER_SITE = 16 };

enum { MAX_HOLD_MICROSECONDS = 100000 };

/* Read once when the extension is loaded, before its threads exist. */
__attribute__((constructor)) static void
read_making_settings(void)
{
    const char *v = getenv("FTREADY_SHIM_COUNT_MAKING");
    const char *h = getenv("FTREADY_SHIM_HOLD_US");
    long us = h ? strtol(h, NULL, 10) : 0;
    if (us < 0)
        us = 0;
    if (us > MAX_HOLD_MICROSECONDS)
        us = MAX_HOLD_MICROSECONDS;
    atomic_store(&hold_microseconds, us);
    atomic_store(&count_making_on, v != NULL && v[0] == '1');
}

static int
making_counted(void)
{
    return atomic_load(&count_making_on) > 0;
}

/* A making call: counted at its site; returns whether the call, once made,
 * is held (one of the site's first calls). */
static int
count_making(uintptr_t address, const char *api)
{
    if (!making_counted())
        return 0;
    struct site *s = site_for(address, api);
    if (!s)
        return 0;
    atomic_store_explicit(&s->init, 1, memory_order_relaxed);
    unsigned long n =
        atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
    return n < HELD_CALLS_PER_SITE;
}

/* Keep the initialisation's window open after a counted call returns. */
static void
hold_window(void)
{
    long us = atomic_load_explicit(&hold_microseconds, memory_order_relaxed);
    if (us <= 0)
        return;
    int saved = errno; /* the real call's */
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
    errno = saved;
}

#define WRAP_MAKING(type, name, params, args)                                  \
    type __real_##name params;                                                 \
    type __wrap_##name params                                                  \
    {                                                                          \
        int held = count_making(RETURN_ADDRESS(), #name);                      \
        type result = __real_##name args;                                      \
        if (held)                                                              \
            hold_window();                                                     \
        return result;                                                         \
    }

typedef struct PyModuleDef PyModuleDef;
typedef struct PyType_Spec PyType_Spec;

WRAP_MAKING(PyObject *, PyImport_ImportModule, (const char *n), (n))
WRAP_MAKING(PyObject *, PyImport_Import, (PyObject *n), (n))
WRAP_MAKING(PyObject *, PyObject_GetAttrString, (PyObject *o, const char *n),
            (o, n))
WRAP_MAKING(PyObject *, PyObject_GetAttr, (PyObject *o, PyObject *n), (o, n))
WRAP_MAKING(PyObject *, PyUnicode_InternFromString, (const char *s), (s))
WRAP_MAKING(PyObject *, PyUnicode_FromString, (const char *s), (s))
WRAP_MAKING(PyObject *, PyDict_New, (void), ())
WRAP_MAKING(PyObject *, PyList_New, (Py_ssize_t n), (n))
WRAP_MAKING(PyObject *, PyTuple_New, (Py_ssize_t n), (n))
WRAP_MAKING(PyObject *, PyObject_CallNoArgs, (PyObject *f), (f))
WRAP_MAKING(PyObject *, PyObject_CallObject, (PyObject *f, PyObject *a),
            (f, a))
WRAP_MAKING(PyObject *, PyErr_NewException,
            (const char *n, PyObject *b, PyObject *d), (n, b, d))
WRAP_MAKING(PyObject *, PyErr_NewExceptionWithDoc,
            (const char *n, const char *doc, PyObject *b, PyObject *d),
            (n, doc, b, d))
WRAP_MAKING(PyObject *, PyType_FromSpec, (PyType_Spec * s), (s))
WRAP_MAKING(PyObject *, PyType_FromSpecWithBases,
            (PyType_Spec * s, PyObject *b), (s, b))
WRAP_MAKING(PyObject *, PyType_FromModuleAndSpec,
            (PyObject *m, PyType_Spec *s, PyObject *b), (m, s, b))
WRAP_MAKING(void *, PyCapsule_Import, (const char *n, int no_block),
            (n, no_block))
WRAP_MAKING(void *, PyMem_Malloc, (size_t n), (n))
WRAP_MAKING(void *, PyMem_Calloc, (size_t n, size_t size), (n, size))
WRAP_MAKING(void *, PyMem_RawMalloc, (size_t n), (n))
WRAP_MAKING(void *, PyMem_RawCalloc, (size_t n, size_t size), (n, size))

#define WRAP_BORROWED(name, params, args)                                      \
    PyObject *__real_##name params;                                            \
    PyObject *__wrap_##name params                                             \
    {                                                                          \
        enter(RETURN_ADDRESS(), #name);                                        \
        PyObject *result = __real_##name args;                                 \
        leave();                                                               \
        return result;                                                         \
    }

WRAP_BORROWED(PyList_GetItem, (PyObject *l, Py_ssize_t i), (l, i))
WRAP_BORROWED(PyDict_GetItem, (PyObject *d, PyObject *k), (d, k))
WRAP_BORROWED(PyDict_GetItemWithError, (PyObject *d, PyObject *k), (d, k))
WRAP_BORROWED(PyDict_GetItemString, (PyObject *d, const char *k), (d, k))
WRAP_BORROWED(PyDict_SetDefault, (PyObject *d, PyObject *k, PyObject *v),
              (d, k, v))
WRAP_BORROWED(PyWeakref_GetObject, (PyObject *ref), (ref))
WRAP_BORROWED(PySys_GetObject, (const char *n), (n))
WRAP_BORROWED(PyImport_AddModule, (const char *n), (n))

int __real_PyDict_Next(PyObject *, Py_ssize_t *, PyObject **, PyObject **);
int
__wrap_PyDict_Next(PyObject *d, Py_ssize_t *pos, PyObject **k, PyObject **v)
{
    enter(RETURN_ADDRESS(), "PyDict_Next");
    int r = __real_PyDict_Next(d, pos, k, v);
    leave();
    return r;
}

void __real_PyCriticalSection_Begin(PyCriticalSection *, PyObject *);
void
__wrap_PyCriticalSection_Begin(PyCriticalSection *c, PyObject *op)
{
    enter(RETURN_ADDRESS(), "PyCriticalSection_Begin");
    __real_PyCriticalSection_Begin(c, op);
    atomic_fetch_sub(&inflight, 1); /* holding a lock is not a hazard */
}

void __real_PyCriticalSection_End(PyCriticalSection *);
void
__wrap_PyCriticalSection_End(PyCriticalSection *c)
{
    enter(RETURN_ADDRESS(), "PyCriticalSection_End");
    __real_PyCriticalSection_End(c);
    atomic_fetch_sub(&inflight, 1);
}

__attribute__((destructor)) static void
write_log(void)
{
    const char *path = getenv("FTREADY_SHIM_LOG");
    if (!path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    for (int i = 0; i < SHIM_SITES; i++) {
        uintptr_t a = atomic_load(&sites[i].address);
        if (a == 0)
            continue;
        Dl_info info;
        uintptr_t offset = a;
        const char *object = "?";
        if (dladdr((void *)a, &info) && info.dli_fbase) {
            offset = a - (uintptr_t)info.dli_fbase;
            object = info.dli_fname;
        }
        fprintf(f,
                "{\"api\": \"%s\", \"object\": \"%s\", \"offset\": %lu, "
                "\"calls\": %lu, \"concurrent\": %lu, \"kind\": \"%s\"}\n",
                atomic_load(&sites[i].api), object, (unsigned long)offset,
                (unsigned long)atomic_load(&sites[i].calls),
                (unsigned long)atomic_load(&sites[i].concurrent),
                atomic_load(&sites[i].init) ? "init" : "borrowed");
    }
    fprintf(f, "{\"spins\": %lu}\n", (unsigned long)atomic_load(&spins_done));
    fclose(f);
}
