// FT007: per-object C state read then written without a lock on self.
#include <Python.h>
#include <stdatomic.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t pos;
    PyObject *seq;
    PyObject *cached_repr;
    int initialised;
    char buffer[32];
    _Atomic long hits;
    PyMutex mutex;
    long guarded;
} Cursor;

/* ---- hazards ---- */

static PyObject *
cursor_next(PyObject *op)
{
    Cursor *self = (Cursor *)op;
    if (self->pos >= PyTuple_GET_SIZE(self->seq))
        return NULL;
    PyObject *item = PyTuple_GET_ITEM(self->seq, self->pos);
    self->pos++; // CHECK-MESSAGES: :5: warning: FT007 in cursor_next: 'cursor_next' reads then writes self->pos with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    return Py_NewRef(item);
}

static PyObject *
cursor_repr_cached(Cursor *self, PyObject *unused)
{
    if (self->cached_repr == NULL) {
        Py_XSETREF(self->cached_repr, PyUnicode_FromString("<cursor>")); // CHECK-MESSAGES: :20: warning: FT007 in cursor_repr_cached: 'cursor_repr_cached' reads then writes self->cached_repr with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    }
    return Py_XNewRef(self->cached_repr);
}

static PyObject *
cursor_lazy_init(Cursor *self, PyObject *unused)
{
    if (!self->initialised) {
        self->initialised = 1; // CHECK-MESSAGES: :9: warning: FT007 in cursor_lazy_init: 'cursor_lazy_init' reads then writes self->initialised with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    }
    Py_RETURN_NONE;
}

static PyObject *
cursor_fill(Cursor *self, PyObject *arg)
{
    if (self->buffer[0] == 0)
        self->buffer[0] = 'x'; // CHECK-MESSAGES: :9: warning: FT007 in cursor_fill: 'cursor_fill' reads then writes self->buffer with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    return PyUnicode_FromString(self->buffer);
}

/* ---- not hazards ---- */

static PyObject *
cursor_next_locked(PyObject *op)
{
    Cursor *self = (Cursor *)op;
    PyObject *item = NULL;
    Py_BEGIN_CRITICAL_SECTION(op);
    if (self->pos < PyTuple_GET_SIZE(self->seq)) {
        item = Py_NewRef(PyTuple_GET_ITEM(self->seq, self->pos));
        self->pos++;
    }
    Py_END_CRITICAL_SECTION();
    return item;
}

static PyObject *
cursor_hit(Cursor *self, PyObject *unused)
{
    self->hits++;
    PyMutex_Lock(&self->mutex);
    self->guarded += 1;
    PyMutex_Unlock(&self->mutex);
    return PyLong_FromLong(self->hits);
}

static PyObject *
cursor_bump_atomic(Cursor *self, PyObject *unused)
{
    /* &field handed to atomics: synchronised */
    Py_ssize_t old = _Py_atomic_load_ssize_relaxed(&self->pos);
    _Py_atomic_store_ssize_relaxed(&self->pos, old + 1);
    Py_RETURN_NONE;
}

static PyObject *
cursor_advance(Cursor *self, PyObject *unused)
{
    self->pos = self->pos + 1; // CHECK-MESSAGES: :5: warning: FT007 in cursor_advance: 'cursor_advance' reads then writes self->pos with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyObject *
cursor_position(Cursor *self, PyObject *unused)
{
    return PyLong_FromSsize_t(self->pos);
}

static PyObject *
cursor_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Cursor *self = (Cursor *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->pos = 0;
    self->pos += 0;
    return (PyObject *)self;
}

/* Argument Clinic shape: tp_init is a wrapper around an _impl only it calls. */
static int
cursor_init_impl(Cursor *self, PyObject *seq)
{
    self->seq = Py_NewRef(seq);
    self->initialised++;
    return 0;
}

static int
cursor_init(Cursor *self, PyObject *args, PyObject *kwds)
{
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "O", &seq))
        return -1;
    return cursor_init_impl(self, seq);
}

static void
cursor_dealloc(Cursor *self)
{
    Py_CLEAR(self->seq);
    Py_CLEAR(self->cached_repr);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef cursor_methods[] = {
    {"repr_cached", (PyCFunction)cursor_repr_cached, METH_NOARGS, NULL},
    {"lazy_init", (PyCFunction)cursor_lazy_init, METH_NOARGS, NULL},
    {"fill", (PyCFunction)cursor_fill, METH_O, NULL},
    {"hit", (PyCFunction)cursor_hit, METH_NOARGS, NULL},
    {"position", (PyCFunction)cursor_position, METH_NOARGS, NULL},
    {"bump_atomic", (PyCFunction)cursor_bump_atomic, METH_NOARGS, NULL},
    {"advance", (PyCFunction)cursor_advance, METH_NOARGS, NULL},
    {"next_locked", (PyCFunction)cursor_next_locked, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot cursor_slots[] = {
    {Py_tp_new, cursor_new},
    {Py_tp_init, cursor_init},
    {Py_tp_dealloc, cursor_dealloc},
    {Py_tp_iternext, cursor_next},
    {Py_tp_methods, cursor_methods},
    {0, NULL},
};

static PyType_Spec cursor_spec = {
    "ft007.Cursor", sizeof(Cursor), 0, Py_TPFLAGS_DEFAULT, cursor_slots,
};

static int
module_exec(PyObject *m)
{
    PyObject *t = PyType_FromSpec(&cursor_spec);
    return PyModule_AddObjectRef(m, "Cursor", t);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft007", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft007(void)
{
    return PyModuleDef_Init(&moduledef);
}
