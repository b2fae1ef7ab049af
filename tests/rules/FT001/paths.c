// FT001 "used after X" needs a path from X to a use of the borrowed value.
// A call on a branch that returns first does not count, nor does an
// accessor or a compiler builtin (likely()) that cannot run Python code.
// Both sides: the same call on the path to the use is still an error.
#include <Python.h>

static PyObject *
lookup_or_fail(PyObject *self, PyObject *args)
{
    PyObject *dict, *key;
    if (!PyArg_ParseTuple(args, "OO", &dict, &key))
        return NULL;
    PyObject *v = PyDict_GetItemWithError(dict, key); // CHECK-MESSAGES: :19: warning: FT001 in lookup_or_fail: borrowed reference from PyDict_GetItemWithError(dict) kept in 'v': without the GIL another thread can remove the item from 'dict' and free it before it is used
    if (v == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_KeyError, "%R", key);
        return NULL;
    }
    return Py_NewRef(v);
}

static PyObject *
lookup_then_format(PyObject *self, PyObject *args)
{
    PyObject *dict, *key;
    if (!PyArg_ParseTuple(args, "OO", &dict, &key))
        return NULL;
    PyObject *v = PyDict_GetItemWithError(dict, key); // CHECK-MESSAGES: :19: error: FT001 in lookup_then_format: borrowed reference from PyDict_GetItemWithError(dict) kept in 'v' is used after PyErr_Format(), which can run Python code that mutates 'dict' and frees the item
    if (v == NULL)
        return NULL;
    PyErr_Format(PyExc_KeyError, "%R", key);
    return Py_NewRef(v);
}

static PyObject *
item_then_bytes(PyObject *self, PyObject *args)
{
    PyObject *list, *data;
    if (!PyArg_ParseTuple(args, "OO", &list, &data))
        return NULL;
    PyObject *item = PyList_GetItem(list, 0); // CHECK-MESSAGES: :22: warning: FT001 in item_then_bytes: borrowed reference from PyList_GetItem(list) kept in 'item': without the GIL another thread can remove the item from 'list' and free it before it is used
    const char *p = PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    return PyTuple_Pack(2, item, n > 0 && p[0] ? Py_True : Py_False);
}

#define likely(x) __builtin_expect(!!(x), 1)

static PyObject *
item_if_likely(PyObject *self, PyObject *args)
{
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O", &list))
        return NULL;
    PyObject *item = PyList_GetItem(list, 0); // CHECK-MESSAGES: :22: warning: FT001 in item_if_likely: borrowed reference from PyList_GetItem(list) kept in 'item': without the GIL another thread can remove the item from 'list' and free it before it is used
    if (likely(item != NULL))
        return Py_NewRef(item);
    return NULL;
}

static PyMethodDef methods[] = {
    {"lookup_or_fail", lookup_or_fail, METH_VARARGS, NULL},
    {"lookup_then_format", lookup_then_format, METH_VARARGS, NULL},
    {"item_then_bytes", item_then_bytes, METH_VARARGS, NULL},
    {"item_if_likely", item_if_likely, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft001_paths", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft001_paths(void)
{
    return PyModuleDef_Init(&moduledef);
}
