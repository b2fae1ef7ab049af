// FT003 and helpers: a helper that loops over a list is quiet when every
// caller hands it a list just built and not shared (a fresh list from
// PyList_New, or from a function of this file that returns only new lists);
// handed the object's own list, it loops over shared state.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *items; /* a list other threads can change */
} Bag;

static PyObject *
sorted_copy(PyObject *list)
{
    PyObject *copy = PyList_GetSlice(list, 0, PyList_GET_SIZE(list));
    if (copy != NULL && PyList_Sort(copy) < 0)
        Py_CLEAR(copy);
    return copy;
}

/* ---- not a hazard: always a new list ---- */

static Py_ssize_t
total_length(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list), total = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        total += PyObject_Length(PyList_GET_ITEM(list, i));
    return total;
}

static PyObject *
Bag_total(Bag *self, PyObject *unused)
{
    PyObject *copy = sorted_copy(self->items);
    if (copy == NULL)
        return NULL;
    Py_ssize_t total = total_length(copy);
    Py_DECREF(copy);
    return PyLong_FromSsize_t(total);
}

static PyObject *
Bag_pair_length(Bag *self, PyObject *args)
{
    PyObject *pair = PyList_New(0);
    if (pair == NULL)
        return NULL;
    if (PyList_Append(pair, args) < 0) {
        Py_DECREF(pair);
        return NULL;
    }
    Py_ssize_t total = total_length(pair);
    Py_DECREF(pair);
    return PyLong_FromSsize_t(total);
}

/* A list built in a struct that stays in the call (regex's RE_JoinInfo;
   the callers' guard reaches the helper through the struct field),
   handed on as a field, and read by PyUnicode_Join, which keeps no
   reference. */
typedef struct {
    PyObject *list;
} Joiner;

static PyObject *
join_all(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyUnicode_Check(PyList_GET_ITEM(list, i)))
            return PyUnicode_FromString("");
    PyObject *sep = PyUnicode_FromString(",");
    PyObject *r = sep ? PyUnicode_Join(sep, list) : NULL;
    Py_XDECREF(sep);
    return r;
}

static PyObject *
finish(Joiner *j)
{
    return j->list ? join_all(j->list) : PyUnicode_FromString("");
}

static PyObject *
Bag_joined(Bag *self, PyObject *args)
{
    Joiner j = {NULL};
    j.list = PyList_New(0);
    if (j.list == NULL || PyList_Append(j.list, args) < 0) {
        Py_XDECREF(j.list);
        return NULL;
    }
    PyObject *r = finish(&j);
    Py_DECREF(j.list);
    return r;
}

/* ---- hazard: one caller hands the shared list ---- */

static Py_ssize_t
count_true(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list), count = 0;
    for (Py_ssize_t i = 0; i < n; i++) // CHECK-MESSAGES: :5: warning: FT003 in count_true: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
    // CHECK-EVIDENCE: reached with no lock from Bag_count (line 125), which passes 'self->items'
        count += PyObject_IsTrue(PyList_GET_ITEM(list, i)) == 1;
    return count;
}

static PyObject *
Bag_count_copy(Bag *self, PyObject *unused)
{
    PyObject *copy = sorted_copy(self->items);
    if (copy == NULL)
        return NULL;
    Py_ssize_t n = count_true(copy);
    Py_DECREF(copy);
    return PyLong_FromSsize_t(n);
}

static PyObject *
Bag_count(Bag *self, PyObject *unused)
{
    return PyLong_FromSsize_t(count_true(self->items));
}

/* ---- not a hazard: the keyword dict made for this call ----
   PyArg_ValidateKeywordArguments only reads it (multidict's extend). */

static Py_ssize_t
count_keywords(PyObject *kwds)
{
    Py_ssize_t pos = 0, n = 0;
    PyObject *key, *value;
    while (PyDict_Next(kwds, &pos, &key, &value))
        n += PyUnicode_Check(key);
    return n;
}

static Py_ssize_t
checked_keywords(PyObject *kwds)
{
    if (!PyArg_ValidateKeywordArguments(kwds))
        return -1;
    return count_keywords(kwds);
}

static PyObject *
Bag_keywords(Bag *self, PyObject *args, PyObject *kwds)
{
    return PyLong_FromSsize_t(kwds ? checked_keywords(kwds) : 0);
}

static PyMethodDef Bag_methods[] = {
    {"total", (PyCFunction)Bag_total, METH_NOARGS, NULL},
    {"pair_length", (PyCFunction)Bag_pair_length, METH_VARARGS, NULL},
    {"count_copy", (PyCFunction)Bag_count_copy, METH_NOARGS, NULL},
    {"count", (PyCFunction)Bag_count, METH_NOARGS, NULL},
    {"joined", (PyCFunction)Bag_joined, METH_VARARGS, NULL},
    {"keywords", (PyCFunction)(void (*)(void))Bag_keywords,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject BagType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft003_fresh.Bag",
    .tp_basicsize = sizeof(Bag),
    .tp_methods = Bag_methods,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft003_fresh", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft003_fresh(void)
{
    if (PyType_Ready(&BagType) < 0)
        return NULL;
    return PyModuleDef_Init(&moduledef);
}
