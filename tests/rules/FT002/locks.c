// FT002 and mutexes: a mutex guards a global only if every write of that
// global holds it. One held elsewhere, or another mutex, does not.
#include <Python.h>
#include <pthread.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long table_size; /* every write under table_lock: guarded */
static long misses;     /* written after the unlock */
static long total;      /* under table_lock in grow, stats_lock in count */
static long resizes;    /* in a helper every caller calls under table_lock */

static void
note_resize(void)
{
    resizes++;
}

static PyObject *
grow(PyObject *self, PyObject *unused)
{
    pthread_mutex_lock(&table_lock);
    table_size++;
    total += 1; // CHECK-MESSAGES: :5: warning: FT002 in grow: global 'total' is written in 'grow' under 'table_lock', and in 'count' under 'stats_lock': different locks do not exclude each other, so concurrent calls race on it
    note_resize();
    pthread_mutex_unlock(&table_lock);
    misses++; // CHECK-MESSAGES: :5: warning: FT002 in grow: global 'misses' is written in 'grow' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    Py_RETURN_NONE;
}

static PyObject *
shrink(PyObject *self, PyObject *unused)
{
    pthread_mutex_lock(&table_lock);
    table_size--;
    note_resize();
    pthread_mutex_unlock(&table_lock);
    Py_RETURN_NONE;
}

static PyObject *
count(PyObject *self, PyObject *unused)
{
    pthread_mutex_lock(&stats_lock);
    total += 2; // CHECK-MESSAGES: :5: warning: FT002 in count: global 'total' is written in 'count' under 'stats_lock', and in 'grow' under 'table_lock': different locks do not exclude each other, so concurrent calls race on it
    pthread_mutex_unlock(&stats_lock);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"grow", grow, METH_NOARGS, NULL},
    {"shrink", shrink, METH_NOARGS, NULL},
    {"count", count, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft002_locks", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft002_locks(void)
{
    return PyModuleDef_Init(&moduledef);
}
