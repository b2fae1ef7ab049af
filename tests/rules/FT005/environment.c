// FT005: the environment. setenv/putenv/unsetenv write it (glibc:
// "MT-Unsafe const:env"); getenv only reads it ("MT-Safe env"), so it is a
// hazard only in a file that also writes it.
#include <Python.h>
#include <stdlib.h>

static PyObject *
set_mode(PyObject *self, PyObject *arg)
{
    if (setenv("MYMOD_MODE", PyUnicode_AsUTF8(arg), 1) != 0) // CHECK-MESSAGES: :9: warning: FT005 in set_mode: setenv() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyObject *
mode(PyObject *self, PyObject *unused)
{
    const char *m = getenv("MYMOD_MODE"); // CHECK-MESSAGES: :21: warning: FT005 in mode: getenv() is not thread-safe: it uses process-wide state that setenv/putenv in this file change, and without the GIL two threads can call it at once
    return PyUnicode_FromString(m ? m : "");
}

static PyMutex env_lock;

static PyObject *
mode_locked(PyObject *self, PyObject *unused)
{
    PyObject *r;
    PyMutex_Lock(&env_lock);
    const char *m = getenv("MYMOD_MODE");
    r = PyUnicode_FromString(m ? m : "");
    PyMutex_Unlock(&env_lock);
    return r;
}

static PyMethodDef methods[] = {
    {"set_mode", set_mode, METH_O, NULL},
    {"mode", mode, METH_NOARGS, NULL},
    {"mode_locked", mode_locked, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft005_env", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft005_env(void)
{
    return PyModuleDef_Init(&moduledef);
}
