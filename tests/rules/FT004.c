// FT004: a module that does not declare free-threading support (this file),
// beside modules that do (ft004/*.c, scanned by the FT004 test too).
#include <Python.h>

static PyMethodDef methods[] = {
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft004", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft004(void) // CHECK-MESSAGES: :1: note: FT004 in PyInit_ft004: module 'ft004' does not declare free-threading support: importing it into 3.13t re-enables the GIL for the whole process with a RuntimeWarning
{
    return PyModuleDef_Init(&moduledef);
}
