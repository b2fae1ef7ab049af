// Single-phase init that declares support: silent.
#include <Python.h>

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "single", NULL, -1, NULL,
};

PyMODINIT_FUNC
PyInit_single(void)
{
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;
}
