// FT001: borrowed references from shared containers.
// Expectations: "CHECK-MESSAGES: RULE in FUNCTION: message part" on the line
// the finding is reported at. Lines without one must stay silent.
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
    PyObject *item = PyList_GET_ITEM(list, 0); // CHECK-MESSAGES: FT001 in first_then_repr: used after PyObject_Repr
    PyObject *r = PyObject_Repr(list);
    Py_XDECREF(r);
    return Py_NewRef(item);
}

static PyObject *
cached(Store *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(self->cache, key); // CHECK-MESSAGES: FT001 in cached: another thread can remove
    if (v == NULL) {
        return NULL;
    }
    Py_INCREF(v);
    return v;
}

static PyObject *
newref_of_borrowed(PyObject *self, PyObject *list)
{
    return Py_NewRef(PyList_GetItem(list, 0)); // CHECK-MESSAGES: FT001 in newref_of_borrowed: PyList_GetItem(list)
}

static PyObject *
weak_target(PyObject *self, PyObject *ref)
{
    PyObject *obj = PyWeakref_GetObject(ref); // CHECK-MESSAGES: FT001 in weak_target: PyWeakref_GetRef
    return PyObject_Repr(obj);
}

static PyObject *
sys_path(PyObject *self, PyObject *unused)
{
    PyObject *path = PySys_GetObject("path"); // CHECK-MESSAGES: FT001 in sys_path: PySys_GetAttr
    return PyObject_Repr(path);
}

static PyObject *
string_key(PyObject *self, PyObject *dict)
{
    PyObject *v = PyDict_GetItemString(dict, "k"); // CHECK-MESSAGES: FT001 in string_key: PyDict_GetItemStringRef
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
    PyObject *x = PyList_GetItem(list, 0); // CHECK-MESSAGES: FT001 in published_then_read: PyList_GetItem(list)
    Py_INCREF(x);
    Py_DECREF(list);
    return x;
}

static PyObject *
fast_first(PyObject *self, PyObject *seq)
{
    /* one finding: the PyList_GET_ITEM inside the macro is not another */
    PyObject *x = PySequence_Fast_GET_ITEM(seq, 0); // CHECK-MESSAGES: FT001 in fast_first: PySequence_Fast_GET_ITEM(seq)
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
