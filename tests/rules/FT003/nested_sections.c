// FT003 and nested critical sections on two objects: each END closes the
// innermost open section, so after the inner END only the outer object is
// still locked, and after the outer END neither is.
#include <Python.h>

static PyObject *
merge_into(PyObject *self, PyObject *args)
{
    PyObject *dst, *src, *key, *value;
    Py_ssize_t pos = 0;
    if (!PyArg_ParseTuple(args, "OO", &dst, &src))
        return NULL;
    Py_BEGIN_CRITICAL_SECTION(dst);
    Py_BEGIN_CRITICAL_SECTION(src);
    while (PyDict_Next(src, &pos, &key, &value)) {
        if (PyDict_SetItem(dst, key, value) < 0)
            break;
    }
    Py_END_CRITICAL_SECTION();
    pos = 0;
    while (PyDict_Next(dst, &pos, &key, &value)) {
        Py_INCREF(value);
        Py_DECREF(value);
    }
    pos = 0;
    while (PyDict_Next(src, &pos, &key, &value)) { // CHECK-MESSAGES: :5: warning: FT003 in merge_into: PyDict_Next iterates 'src' without a critical section: another thread can mutate it mid-loop, and the borrowed key and value can be freed
        Py_INCREF(value);
        Py_DECREF(value);
    }
    Py_END_CRITICAL_SECTION();
    pos = 0;
    while (PyDict_Next(dst, &pos, &key, &value)) { // CHECK-MESSAGES: :5: warning: FT003 in merge_into: PyDict_Next iterates 'dst' without a critical section: another thread can mutate it mid-loop, and the borrowed key and value can be freed
        Py_INCREF(value);
        Py_DECREF(value);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"merge_into", merge_into, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft003_nested", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft003_nested(void)
{
    return PyModuleDef_Init(&moduledef);
}
