// FT003: lists that look private but are not. Each helper loops over a list
// every caller made itself, yet another thread can reach it: the helper
// publishes it first, the caller's local had its address taken (so it holds
// whatever PyArg_ParseTuple stored), the list escapes through a local
// alias, or the caller publishes it later in a loop that calls the helper
// again.
#include <Python.h>

static PyObject *last_seen; /* module-level: other threads read it */

static Py_ssize_t
keep_then_count(PyObject *list)
{
    Py_XSETREF(last_seen, Py_NewRef(list));
    Py_ssize_t n = PyList_GET_SIZE(list), c = 0;
    for (Py_ssize_t i = 0; i < n; i++) // CHECK-MESSAGES: :5: warning: FT003 in keep_then_count: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        c += PyList_GET_ITEM(list, i) != Py_None;
    return c;
}

static Py_ssize_t
count_given(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list), c = 0;
    for (Py_ssize_t i = 0; i < n; i++) // CHECK-MESSAGES: :5: warning: FT003 in count_given: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        c += PyList_GET_ITEM(list, i) != Py_None;
    return c;
}

static void
remember(PyObject *list)
{
    PyObject *alias = list;
    last_seen = alias; /* a borrowed store, for the test */
}

static Py_ssize_t
count_remembered(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list), c = 0;
    for (Py_ssize_t i = 0; i < n; i++) // CHECK-MESSAGES: :5: warning: FT003 in count_remembered: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        c += PyList_GET_ITEM(list, i) != Py_None;
    return c;
}

static Py_ssize_t
count_twice(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list), c = 0;
    for (Py_ssize_t i = 0; i < n; i++) // CHECK-MESSAGES: :5: warning: FT003 in count_twice: loop over 'list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        c += PyList_GET_ITEM(list, i) != Py_None;
    return c;
}

static PyObject *
published_first(PyObject *module, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    Py_ssize_t c = keep_then_count(list);
    Py_DECREF(list);
    return PyLong_FromSsize_t(c);
}

static PyObject *
parsed(PyObject *module, PyObject *args)
{
    PyObject *list = NULL;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &list))
        return NULL;
    return PyLong_FromSsize_t(count_given(list));
}

static PyObject *
aliased(PyObject *module, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    remember(list);
    return PyLong_FromSsize_t(count_remembered(list));
}

static PyObject *
in_a_loop(PyObject *module, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    Py_ssize_t c = 0;
    if (list == NULL)
        return NULL;
    for (int round = 0; round < 2; round++) {
        c += count_twice(list);
        Py_XSETREF(last_seen, Py_NewRef(list)); /* shared from round 2 */
    }
    Py_DECREF(list);
    return PyLong_FromSsize_t(c);
}

static PyMethodDef methods[] = {
    {"published_first", published_first, METH_NOARGS, NULL},
    {"parsed", parsed, METH_VARARGS, NULL},
    {"aliased", aliased, METH_NOARGS, NULL},
    {"in_a_loop", in_a_loop, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft003_not_private", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft003_not_private(void)
{
    return PyModuleDef_Init(&moduledef);
}
