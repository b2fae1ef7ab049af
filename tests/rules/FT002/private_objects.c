// FT002 and objects the caller made: a helper every caller hands a new,
// unshared list may fill it without a lock, but that list is no lock for
// the globals the helper writes. (Counted as one once, it hid multidict's
// pair_list_post_update, whose callers pass a fresh `used` dict.)
#include <Python.h>

static long fills; /* how many lists were filled, for all threads */

static int
fill(PyObject *list, long n)
{
    for (long i = 0; i < n; i++) {
        PyObject *v = PyLong_FromLong(i);
        if (v == NULL || PyList_Append(list, v) < 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    fills++; // CHECK-MESSAGES: :5: warning: FT002 in fill: global 'fills' is written in 'fill' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    return 0;
}

static PyObject *
numbers(PyObject *self, PyObject *arg)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    if (fill(list, PyLong_AsLong(arg)) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

static PyMethodDef methods[] = {
    {"numbers", numbers, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft002_private", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft002_private(void)
{
    return PyModuleDef_Init(&moduledef);
}
