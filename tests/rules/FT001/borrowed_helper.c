// FT001 through a helper of the file: item_at() hands back a reference it
// borrowed from the object's list. A caller that keeps it across a call
// that can run Python code holds nothing: the finding is the caller's. A
// caller that takes its own reference at once, or uses it before any such
// call, is safe; so is a helper whose list nobody else can reach.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *items; /* a list other threads can change */
} Bag;

static PyObject *
item_at(Bag *self, Py_ssize_t i)
{
    return PyList_GET_ITEM(self->items, i); // CHECK-MESSAGES: :12: warning: FT001 in item_at: borrowed reference from PyList_GET_ITEM(self->items): without the GIL another thread can remove the item from 'self->items' and free it before it is used
}

static PyObject *
first_key(PyObject *dict)
{
    PyObject *key = PyDict_GetItemString(dict, "first"); // CHECK-MESSAGES: :21: warning: FT001 in first_key: borrowed reference from PyDict_GetItemString(dict) kept in 'key': without the GIL another thread can remove the item from 'dict' and free it before it is used
    return key;
}

/* ---- hazards ---- */

static PyObject *
Bag_describe(Bag *self, PyObject *other)
{
    PyObject *item = item_at(self, 0); // CHECK-MESSAGES: :22: error: FT001 in Bag_describe: borrowed reference returned by item_at() (PyList_GET_ITEM(self->items)) kept in 'item' is used after PyObject_Repr(), which can run Python code that mutates 'self->items' and frees the item
    // CHECK-EVIDENCE: item_at returns PyList_GET_ITEM(self->items) without a reference of its own (line 16)
    // CHECK-EVIDENCE: call that can run code: PyObject_Repr
    PyObject *text = PyObject_Repr(other);
    if (text == NULL)
        return NULL;
    Py_DECREF(text);
    return PyObject_Str(item);
}

static PyObject *
Bag_lookup(Bag *self, PyObject *dict)
{
    PyObject *key = first_key(dict); // CHECK-MESSAGES: :21: error: FT001 in Bag_lookup: borrowed reference returned by first_key() (PyDict_GetItemString(dict)) kept in 'key' is used after PyObject_Hash(), which can run Python code that mutates 'dict' and frees the item
    // CHECK-EVIDENCE: first_key returns PyDict_GetItemString(dict) without a reference of its own (line 22)
    // CHECK-EVIDENCE: call that can run code: PyObject_Hash
    if (key == NULL || PyObject_Hash(dict) == -1)
        return NULL;
    return Py_NewRef(key);
}

/* ---- safe twins ---- */

static PyObject *
Bag_describe_owned(Bag *self, PyObject *other)
{
    PyObject *item = Py_NewRef(item_at(self, 0));
    PyObject *text = PyObject_Repr(other);
    if (text == NULL) {
        Py_DECREF(item);
        return NULL;
    }
    Py_DECREF(text);
    PyObject *r = PyObject_Str(item);
    Py_DECREF(item);
    return r;
}

static PyObject *
Bag_first_type(Bag *self, PyObject *unused)
{
    PyObject *item = item_at(self, 0);
    return Py_NewRef((PyObject *)Py_TYPE(item));
}

static PyObject *
pair_first(PyObject *a, PyObject *b)
{
    PyObject *pair = PyList_New(0);
    if (pair == NULL || PyList_Append(pair, a) < 0 || PyList_Append(pair, b) < 0) {
        Py_XDECREF(pair);
        return NULL;
    }
    PyObject *first = PyList_GET_ITEM(pair, 0);
    PyObject *r = PyObject_Repr(first);
    Py_DECREF(pair);
    return r;
}

static PyObject *
Bag_pair(Bag *self, PyObject *other)
{
    PyObject *r = pair_first(other, other);
    PyObject *s = PyObject_Str(other);
    Py_XDECREF(s);
    return r;
}

static PyMethodDef Bag_methods[] = {
    {"describe", (PyCFunction)Bag_describe, METH_O, NULL},
    {"lookup", (PyCFunction)Bag_lookup, METH_O, NULL},
    {"describe_owned", (PyCFunction)Bag_describe_owned, METH_O, NULL},
    {"first_type", (PyCFunction)Bag_first_type, METH_NOARGS, NULL},
    {"pair", (PyCFunction)Bag_pair, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
