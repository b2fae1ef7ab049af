// FT001: borrowed references from shared containers.
// Expectations sit on the line a finding is reported at, in full: the
// column, severity, rule, function and the whole message.
// Lines without one must stay silent.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *cache; /* dict */
    PyObject *items; /* list */
} Store;

/* ---- hazards ---- */

static PyObject *
first_then_repr(PyObject *self, PyObject *list)
{
    PyObject *item = PyList_GET_ITEM(list, 0); // CHECK-MESSAGES: :22: error: FT001 in first_then_repr: borrowed reference from PyList_GET_ITEM(list) kept in 'item' is used after PyObject_Repr(), which can run Python code that mutates 'list' and frees the item
    PyObject *r = PyObject_Repr(list);
    Py_XDECREF(r);
    return Py_NewRef(item);
}

static PyObject *
cached(Store *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(self->cache, key); // CHECK-MESSAGES: :19: warning: FT001 in cached: borrowed reference from PyDict_GetItemWithError(self->cache) kept in 'v': without the GIL another thread can remove the item from 'self->cache' and free it before it is used
    if (v == NULL) {
        return NULL;
    }
    Py_INCREF(v);
    return v;
}

static PyObject *
newref_of_borrowed(PyObject *self, PyObject *list)
{
    return Py_NewRef(PyList_GetItem(list, 0)); // CHECK-MESSAGES: :22: warning: FT001 in newref_of_borrowed: borrowed reference from PyList_GetItem(list): without the GIL another thread can remove the item from 'list' and free it before it is used
}

static PyObject *
weak_target(PyObject *self, PyObject *ref)
{
    PyObject *obj = PyWeakref_GetObject(ref); // CHECK-MESSAGES: :21: warning: FT001 in weak_target: borrowed reference from PyWeakref_GetObject(ref) kept in 'obj': without the GIL another thread can drop the last strong reference to the object 'ref' refers to, and it is freed before it is used
    return PyObject_Repr(obj);
}

static PyObject *
sys_path(PyObject *self, PyObject *unused)
{
    PyObject *path = PySys_GetObject("path"); // CHECK-MESSAGES: :22: warning: FT001 in sys_path: borrowed reference from PySys_GetObject(sys) kept in 'path': without the GIL another thread can replace the value in the sys module and free it before it is used
    return PyObject_Repr(path);
}

static PyObject *
string_key(PyObject *self, PyObject *dict)
{
    PyObject *v = PyDict_GetItemString(dict, "k"); // CHECK-MESSAGES: :19: warning: FT001 in string_key: borrowed reference from PyDict_GetItemString(dict) kept in 'v': without the GIL another thread can remove the item from 'dict' and free it before it is used
    PyObject *s = PyObject_Str(v);
    return s;
}

static PyObject *
published_then_read(PyObject *self, PyObject *sink)
{
    PyObject *list = PyList_New(1);
    if (list == NULL)
        return NULL;
    PyList_SET_ITEM(list, 0, Py_NewRef(Py_None));
    if (PyObject_SetAttrString(sink, "shared", list) < 0)
        return NULL;
    PyObject *x = PyList_GetItem(list, 0); // CHECK-MESSAGES: :19: warning: FT001 in published_then_read: borrowed reference from PyList_GetItem(list) kept in 'x': without the GIL another thread can remove the item from 'list' and free it before it is used
    Py_INCREF(x);
    Py_DECREF(list);
    return x;
}

static PyObject *
fast_first(PyObject *self, PyObject *seq)
{
    /* one finding: the PyList_GET_ITEM inside the macro is not another */
    PyObject *x = PySequence_Fast_GET_ITEM(seq, 0); // CHECK-MESSAGES: :19: warning: FT001 in fast_first: borrowed reference from PySequence_Fast_GET_ITEM(seq) kept in 'x': without the GIL another thread can remove the item from 'seq' and free it before it is used
    return PyObject_Repr(x);
}

/* ---- not hazards ---- */

static PyObject *
tuple_item(PyObject *self, PyObject *tup)
{
    return Py_NewRef(PyTuple_GET_ITEM(tup, 0));
}

static PyObject *
fresh_list(PyObject *self, PyObject *unused)
{
    PyObject *list = PyList_New(1);
    if (list == NULL)
        return NULL;
    PyList_SET_ITEM(list, 0, PyLong_FromLong(1));
    PyObject *x = PyList_GET_ITEM(list, 0);
    Py_INCREF(x);
    Py_DECREF(list);
    return x;
}

static PyObject *
copied(PyObject *self, PyObject *dict)
{
    PyObject *copy = PyDict_Copy(dict);
    if (copy == NULL)
        return NULL;
    PyObject *v = PyDict_GetItemString(copy, "k");
    Py_XINCREF(v);
    Py_DECREF(copy);
    return v;
}

static PyObject *
kwargs_lookup(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *v = kwargs ? PyDict_GetItemString(kwargs, "flag") : NULL;
    return PyBool_FromLong(v != NULL && PyObject_IsTrue(v));
}

static PyObject *
locked(Store *self, PyObject *key)
{
    PyObject *v;
    Py_BEGIN_CRITICAL_SECTION(self->cache);
    v = PyDict_GetItem(self->cache, key);
    Py_XINCREF(v);
    Py_END_CRITICAL_SECTION();
    return v;
}

static PyObject *
locked_on_self(Store *self, PyObject *key)
{
    PyObject *v;
    Py_BEGIN_CRITICAL_SECTION(self);
    v = PyDict_GetItem(self->cache, key);
    Py_XINCREF(v);
    Py_END_CRITICAL_SECTION();
    return v;
}

static PyObject *
contains(PyObject *self, PyObject *dict)
{
    if (PyDict_GetItemString(dict, "k") != NULL) {
        Py_RETURN_TRUE;
    }
    PyObject *v = PyDict_GetItemString(dict, "j");
    return PyBool_FromLong(v != NULL);
}

static PyObject *
strong_ref(PyObject *self, PyObject *list)
{
    return PyList_GetItemRef(list, 0);
}

/* Argument Clinic shape: the wrapper holds the lock, the _impl and its
   helper run only under it. */
static PyObject *
peek_helper(Store *self)
{
    PyObject *x = PyList_GET_ITEM(self->items, 0);
    return Py_NewRef(x);
}

static PyObject *
peek_impl(Store *self)
{
    return peek_helper(self);
}

static PyObject *
peek(Store *self, PyObject *unused)
{
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(self);
    r = peek_impl(self);
    Py_END_CRITICAL_SECTION();
    return r;
}

static PyObject *shared_registry;

static int
module_exec(PyObject *m)
{
    shared_registry = PyDict_New();
    PyObject *v = PyDict_GetItemString(PyModule_GetDict(m), "__name__");
    return PyDict_SetItemString(shared_registry, "name", v);
}

static PyMethodDef methods[] = {
    {"first_then_repr", first_then_repr, METH_O, NULL},
    {"cached", (PyCFunction)cached, METH_O, NULL},
    {"newref_of_borrowed", newref_of_borrowed, METH_O, NULL},
    {"weak_target", weak_target, METH_O, NULL},
    {"sys_path", sys_path, METH_NOARGS, NULL},
    {"string_key", string_key, METH_O, NULL},
    {"published_then_read", published_then_read, METH_O, NULL},
    {"fast_first", fast_first, METH_O, NULL},
    {"tuple_item", tuple_item, METH_O, NULL},
    {"fresh_list", fresh_list, METH_NOARGS, NULL},
    {"copied", copied, METH_O, NULL},
    {"kwargs_lookup", (PyCFunction)(void (*)(void))kwargs_lookup,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"locked", (PyCFunction)locked, METH_O, NULL},
    {"locked_on_self", (PyCFunction)locked_on_self, METH_O, NULL},
    {"contains", contains, METH_O, NULL},
    {"strong_ref", strong_ref, METH_O, NULL},
    {"peek", (PyCFunction)peek, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft001", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft001(void)
{
    return PyModuleDef_Init(&moduledef);
}
