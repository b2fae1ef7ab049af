// A Py_mod_gil slot that says the module needs the GIL.
#include <Python.h>

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "needs_gil", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_needs_gil(void) // CHECK-MESSAGES: :1: note: FT004 in PyInit_needs_gil: module 'needs_gil' does not declare free-threading support (its Py_mod_gil slot says Py_MOD_GIL_USED): importing it into 3.13t re-enables the GIL for the whole process with a RuntimeWarning
{
    return PyModuleDef_Init(&moduledef);
}
