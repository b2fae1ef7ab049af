/* Crashes when the interpreter frees the module at exit, after every call
 * returned: a run that said "done" is still not clean. */
#include "../hostile_common.h"

static void
free_module(void *module)
{
    volatile int *nowhere = NULL;
    *nowhere = 1;
}

static PyMethodDef methods[] = {
    {"tally", tally, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_exit_crash", NULL, 0, methods, slots,
    NULL, NULL, free_module,
};

PyMODINIT_FUNC
PyInit_ftcorpus_exit_crash(void)
{
    return PyModuleDef_Init(&moduledef);
}
