// Single-phase init that does not declare support.
#include <Python.h>

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "legacy", NULL, -1, NULL,
};

PyMODINIT_FUNC
PyInit_legacy(void) // CHECK-MESSAGES: FT004 in PyInit_legacy: PyUnstable_Module_SetGIL
{
    return PyModule_Create(&moduledef);
}
