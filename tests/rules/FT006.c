// FT006: refcount and object-layout tricks.
#include <Python.h>

/* ---- hazards ---- */

static PyObject *
append_in_place(PyObject *self, PyObject *args)
{
    PyObject *s, *t;
    if (!PyArg_ParseTuple(args, "OO", &s, &t))
        return NULL;
    if (Py_REFCNT(s) == 1) { // CHECK-MESSAGES: :9: error: FT006 in append_in_place: 'Py_REFCNT(...) == N' assumes it sees every reference: in the free-threaded build other threads hold references counted in ob_ref_shared and can take one at any time
        /* "nobody else sees it": mutate in place */
    }
    return PyNumber_Add(s, t);
}

static PyObject *
raw_count(PyObject *self, PyObject *obj)
{
    return PyLong_FromSsize_t(obj->ob_refcnt); // CHECK-MESSAGES: :36: error: FT006 in raw_count: reads ob_refcnt directly: the free-threaded build has no such field (the count is split into ob_ref_local and ob_ref_shared)
}

static PyObject *
force_count(PyObject *self, PyObject *obj)
{
    Py_SET_REFCNT(obj, 1); // CHECK-MESSAGES: :5: error: FT006 in force_count: Py_SET_REFCNT overwrites a count that other threads update concurrently in the free-threaded build
    Py_RETURN_NONE;
}

static PyObject *
few_owners(PyObject *self, PyObject *obj)
{
    return PyBool_FromLong(Py_REFCNT(obj) <= 2); // CHECK-MESSAGES: :28: error: FT006 in few_owners: 'Py_REFCNT(...) <= N' assumes it sees every reference: in the free-threaded build other threads hold references counted in ob_ref_shared and can take one at any time
}

/* ---- not hazards ---- */

static PyObject *
report_count(PyObject *self, PyObject *obj)
{
    /* reading the count for diagnostics is fine */
    return PyLong_FromSsize_t(Py_REFCNT(obj));
}

static PyObject *
fresh_tuple_reuse(PyObject *self, PyObject *unused)
{
    /* created here and never handed out: its count is its own */
    PyObject *t = PyTuple_New(1);
    if (t == NULL)
        return NULL;
    if (Py_REFCNT(t) == 1) {
        PyTuple_SET_ITEM(t, 0, Py_NewRef(Py_None));
    }
    return t;
}

static PyObject *
checked_owner(PyObject *self, PyObject *obj)
{
    /* a debug check, not logic that relies on the count */
    assert(Py_REFCNT(obj) >= 1);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"append_in_place", append_in_place, METH_VARARGS, NULL},
    {"raw_count", raw_count, METH_O, NULL},
    {"force_count", force_count, METH_O, NULL},
    {"few_owners", few_owners, METH_O, NULL},
    {"report_count", report_count, METH_O, NULL},
    {"fresh_tuple_reuse", fresh_tuple_reuse, METH_NOARGS, NULL},
    {"checked_owner", checked_owner, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft006", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft006(void)
{
    return PyModuleDef_Init(&moduledef);
}
