/* ftcorpus_hidden: a race the static scan cannot see. The counter is
 * reached through a pointer that module init stores in the module's state,
 * so no global is written by name in a call; only the stress run, which
 * calls bump() from several threads, finds it. A check of this module must
 * be NOT READY from the run-time evidence alone. */
#include <Python.h>

typedef struct {
    long *counter;
} hidden_state;

static PyObject *
bump(PyObject *module, PyObject *unused)
{
    hidden_state *st = PyModule_GetState(module);
    long *counter = st->counter;
    *counter = *counter + 1; /* read-modify-write, no lock */
    return PyLong_FromLong(*counter);
}

static int
hidden_exec(PyObject *module)
{
    hidden_state *st = PyModule_GetState(module);
    st->counter = PyMem_Calloc(1, sizeof(long));
    return st->counter ? 0 : -1;
}

static PyMethodDef methods[] = {
    {"bump", bump, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, hidden_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_hidden", NULL, sizeof(hidden_state),
    methods, slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_hidden(void)
{
    return PyModuleDef_Init(&moduledef);
}
