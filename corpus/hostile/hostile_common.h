/* The well-behaved part of every hostile corpus module: a plain data race
 * (an unguarded global counter) that the stress run must still report after
 * the module's hostile function has done its worst. */
#ifndef FTCORPUS_HOSTILE_COMMON_H
#define FTCORPUS_HOSTILE_COMMON_H

#include <Python.h>

static long tally_count;

static PyObject *
tally(PyObject *module, PyObject *unused)
{
    tally_count = tally_count + 1; /* read-modify-write, no lock */
    return PyLong_FromLong(tally_count);
}

#define HOSTILE_MODULE(name, methods)                                        \
    static PyModuleDef_Slot name##_slots[] = {                               \
        {Py_mod_gil, Py_MOD_GIL_NOT_USED},                                   \
        {0, NULL},                                                           \
    };                                                                       \
    static struct PyModuleDef name##_def = {                                 \
        PyModuleDef_HEAD_INIT, #name, NULL, 0, methods, name##_slots,        \
    };                                                                       \
    PyMODINIT_FUNC PyInit_##name(void) { return PyModuleDef_Init(&name##_def); }

#endif
