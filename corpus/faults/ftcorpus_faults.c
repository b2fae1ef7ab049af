/* ftcorpus_faults: three functions that behave alone and fail only when
 * called from several threads at once: one crashes, one deadlocks, one never
 * returns. The stress harness must turn each into a finding (FTR002,
 * FTR003) and still finish within its budget.
 */
#include <Python.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int crash_inflight, hang_inflight, spin_inflight;
static pthread_mutex_t hang_lock = PTHREAD_MUTEX_INITIALIZER;

/* Alone it sleeps a little; with company it dereferences NULL. */
static PyObject *
crash_when_shared(PyObject *module, PyObject *unused)
{
    if (atomic_fetch_add(&crash_inflight, 1) > 0) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
    usleep(200);
    atomic_fetch_sub(&crash_inflight, 1);
    Py_RETURN_NONE;
}

/* With company it keeps the lock: every later caller blocks for good. */
static PyObject *
deadlock_when_shared(PyObject *module, PyObject *unused)
{
    int others = atomic_fetch_add(&hang_inflight, 1);
    pthread_mutex_lock(&hang_lock);
    usleep(200);
    if (others == 0)
        pthread_mutex_unlock(&hang_lock);
    atomic_fetch_sub(&hang_inflight, 1);
    Py_RETURN_NONE;
}

/* With company it spins forever. */
static PyObject *
spin_when_shared(PyObject *module, PyObject *unused)
{
    if (atomic_fetch_add(&spin_inflight, 1) > 0)
        for (;;)
            atomic_fetch_add(&spin_inflight, 0);
    usleep(200);
    atomic_fetch_sub(&spin_inflight, 1);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"crash_when_shared", crash_when_shared, METH_NOARGS, NULL},
    {"deadlock_when_shared", deadlock_when_shared, METH_NOARGS, NULL},
    {"spin_when_shared", spin_when_shared, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_faults", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_faults(void)
{
    return PyModuleDef_Init(&moduledef);
}
