/* ftcorpus_counter: the smallest racy extension, packaged with setuptools.
 * hit() increments a global counter with no lock (FT002; a data race under
 * threads). */
#include <Python.h>

static long hits;

static PyObject *
hit(PyObject *module, PyObject *unused)
{
    hits++;
    return PyLong_FromLong(hits);
}

static PyMethodDef methods[] = {
    {"hit", hit, METH_NOARGS, "hit()"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_counter", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_counter(void)
{
    return PyModuleDef_Init(&moduledef);
}
