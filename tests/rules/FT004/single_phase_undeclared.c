// Single-phase init that does not declare support.
#include <Python.h>

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "legacy", NULL, -1, NULL,
};

PyMODINIT_FUNC
PyInit_legacy(void) // CHECK-MESSAGES: :1: note: FT004 in PyInit_legacy: module 'legacy' does not declare free-threading support: importing it into 3.13t re-enables the GIL for the whole process with a RuntimeWarning
{
    return PyModule_Create(&moduledef);
}
