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
PyInit_needs_gil(void) // CHECK-MESSAGES: FT004 in PyInit_needs_gil: its Py_mod_gil slot says Py_MOD_GIL_USED
{
    return PyModuleDef_Init(&moduledef);
}
