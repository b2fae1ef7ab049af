// FT003: iteration over shared containers without a critical section.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *entries; /* dict */
} Registry;

/* ---- hazards ---- */

static PyObject *
sum_values(PyObject *self, PyObject *dict)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long total = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) { // CHECK-MESSAGES: :5: warning: FT003 in sum_values: PyDict_Next iterates 'dict' without a critical section: another thread can mutate it mid-loop, and the borrowed key and value can be freed
        total += PyLong_AsLong(value);
    }
    return PyLong_FromLong(total);
}

static PyObject *
count_items(PyObject *self, PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    long total = 0;
    for (Py_ssize_t i = 0; i < n; i++) { // CHECK-MESSAGES: :5: warning: FT003 in count_items: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        PyObject *item = PyList_GET_ITEM(list, i);
        total += PyObject_IsTrue(item);
    }
    return PyLong_FromLong(total);
}

static PyObject *
names(Registry *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    while (PyDict_Next(self->entries, &pos, &key, &value)) { // CHECK-MESSAGES: :5: warning: FT003 in names: PyDict_Next iterates 'self->entries' without a critical section: another thread can mutate it mid-loop, and the borrowed key and value can be freed
        PyList_Append(out, key);
    }
    return out;
}

static PyObject *
fast_items(PyObject *self, PyObject *seq)
{
    PyObject *fast = PySequence_Fast(seq, "need a sequence");
    if (fast == NULL)
        return NULL;
    long total = 0;
    Py_ssize_t i = 0;
    while (i < PySequence_Fast_GET_SIZE(fast)) { // CHECK-MESSAGES: :5: warning: FT003 in fast_items: loop over 'fast' with PySequence_Fast_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        total += PyObject_IsTrue(PySequence_Fast_GET_ITEM(fast, i));
        i++;
    }
    Py_DECREF(fast);
    return PyLong_FromLong(total);
}

/* ---- not hazards ---- */

static PyObject *
sum_locked(PyObject *self, PyObject *dict)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long total = 0;
    Py_BEGIN_CRITICAL_SECTION(dict);
    while (PyDict_Next(dict, &pos, &key, &value)) {
        total += PyLong_AsLong(value);
    }
    Py_END_CRITICAL_SECTION();
    return PyLong_FromLong(total);
}

static PyObject *
sum_copy(PyObject *self, PyObject *dict)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long total = 0;
    PyObject *copy = PyDict_Copy(dict);
    if (copy == NULL)
        return NULL;
    while (PyDict_Next(copy, &pos, &key, &value)) {
        total += PyLong_AsLong(value);
    }
    Py_DECREF(copy);
    return PyLong_FromLong(total);
}

static PyObject *
kwargs_names(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long n = 0;
    while (kwargs && PyDict_Next(kwargs, &pos, &key, &value)) {
        n++;
    }
    return PyLong_FromLong(n);
}

static PyObject *
list_copy_loop(PyObject *self, PyObject *seq)
{
    PyObject *list = PySequence_List(seq);
    if (list == NULL)
        return NULL;
    long total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        total += PyObject_IsTrue(PyList_GET_ITEM(list, i));
    }
    Py_DECREF(list);
    return PyLong_FromLong(total);
}

static PyObject *
tuple_loop(PyObject *self, PyObject *tup)
{
    long total = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tup); i++) {
        total += PyObject_IsTrue(PyTuple_GET_ITEM(tup, i));
    }
    return PyLong_FromLong(total);
}

static PyObject *
names_locked(Registry *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    while (PyDict_Next(self->entries, &pos, &key, &value)) {
        PyList_Append(out, key);
    }
    Py_END_CRITICAL_SECTION();
    return out;
}

/* PyUnicode_Split always returns a new list (pickle's get_dotted_path). */
static PyObject *
dotted_parts(PyObject *self, PyObject *name)
{
    PyObject *parts = PyUnicode_Split(name, NULL, -1);
    if (parts == NULL)
        return NULL;
    long total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(parts); i++) {
        total += PyObject_IsTrue(PyList_GET_ITEM(parts, i));
    }
    Py_DECREF(parts);
    return PyLong_FromLong(total);
}

static PyMethodDef methods[] = {
    {"sum_values", sum_values, METH_O, NULL},
    {"count_items", count_items, METH_O, NULL},
    {"names", (PyCFunction)names, METH_NOARGS, NULL},
    {"fast_items", fast_items, METH_O, NULL},
    {"sum_locked", sum_locked, METH_O, NULL},
    {"sum_copy", sum_copy, METH_O, NULL},
    {"kwargs_names", (PyCFunction)(void (*)(void))kwargs_names,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"list_copy_loop", list_copy_loop, METH_O, NULL},
    {"tuple_loop", tuple_loop, METH_O, NULL},
    {"names_locked", (PyCFunction)names_locked, METH_NOARGS, NULL},
    {"dotted_parts", dotted_parts, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft003", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft003(void)
{
    return PyModuleDef_Init(&moduledef);
}
