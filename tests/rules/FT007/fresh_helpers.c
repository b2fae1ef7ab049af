// FT007 and helpers that fill a new object: a helper whose every caller
// hands it an object just made (by the type's allocator, or by a function of
// this file that returns only new objects) and not yet shared is quiet; the
// same helper reached with a shared object, or with an object its maker has
// already published, is not.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    Py_ssize_t shift;
} Vec;

static PyTypeObject VecType;
static Vec *last_made; /* a module-level cache */

static Vec *
new_vec(Py_ssize_t count)
{
    Vec *v = PyObject_New(Vec, &VecType);
    if (v == NULL)
        return NULL;
    v->count = count;
    v->shift = 5;
    return v;
}

static Vec *
copy_vec(Vec *original)
{
    Vec *v = new_vec(original->count);
    if (v != NULL)
        v->shift = original->shift;
    return v;
}

/* ---- not hazards: every caller gives a new, unshared object ---- */

static void
append_one(Vec *v)
{
    if (v->count >= (1 << v->shift))
        v->shift += 5;
    v->count++;
}

static PyObject *
Vec_append(Vec *self, PyObject *unused)
{
    Vec *v = copy_vec(self);
    if (v == NULL)
        return NULL;
    append_one(v);
    append_one(v);
    return (PyObject *)v;
}

static PyObject *
Vec_fresh(Vec *self, PyObject *unused)
{
    Vec *v = new_vec(0);
    if (v == NULL)
        return NULL;
    append_one(v);
    return (PyObject *)v;
}

/* ---- hazards ---- */

static void
bump(Vec *v)
{
    v->count++; // CHECK-MESSAGES: :5: warning: FT007 in bump: 'bump' reads then writes v->count with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_bump (line 90), which passes 'self'
}

static PyObject *
Vec_bump_copy(Vec *self, PyObject *unused)
{
    Vec *v = copy_vec(self);
    if (v == NULL)
        return NULL;
    bump(v);
    return (PyObject *)v;
}

static PyObject *
Vec_bump(Vec *self, PyObject *unused)
{
    bump(self); /* the shared object itself: bump is not private */
    Py_RETURN_NONE;
}

static Vec *
make_and_remember(void)
{
    Vec *v = new_vec(0);
    last_made = v; /* published before it is returned */
    return v;
}

static void
grow(Vec *v)
{
    v->shift += 5; // CHECK-MESSAGES: :5: warning: FT007 in grow: 'grow' reads then writes v->shift with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_remembered (line 115), which passes 'v'
}

static PyObject *
Vec_remembered(Vec *self, PyObject *unused)
{
    Vec *v = make_and_remember();
    if (v == NULL)
        return NULL;
    grow(v);
    return (PyObject *)v;
}

static PyMethodDef Vec_methods[] = {
    {"append", (PyCFunction)Vec_append, METH_NOARGS, NULL},
    {"fresh", (PyCFunction)Vec_fresh, METH_NOARGS, NULL},
    {"bump_copy", (PyCFunction)Vec_bump_copy, METH_NOARGS, NULL},
    {"bump", (PyCFunction)Vec_bump, METH_NOARGS, NULL},
    {"remembered", (PyCFunction)Vec_remembered, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject VecType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_fresh.Vec",
    .tp_basicsize = sizeof(Vec),
    .tp_methods = Vec_methods,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft007_fresh", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft007_fresh(void)
{
    return PyModuleDef_Init(&moduledef);
}
