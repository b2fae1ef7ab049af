// Multi-phase init with {Py_mod_gil, Py_MOD_GIL_NOT_USED}: silent.
#include <Python.h>

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "declared", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_declared(void)
{
    return PyModuleDef_Init(&moduledef);
}
