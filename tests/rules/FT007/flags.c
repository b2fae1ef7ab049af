// FT007 and a flag every store sets to the same constant: hashlib's
// `if (!self->use_mutex && len >= HASHLIB_GIL_MINSIZE) self->use_mutex =
// true;`. Two threads racing there both store `true`; nothing is lost. A
// field that is also reset, or set to other values, can lose an update.
#include <Python.h>
#include <stdbool.h>

typedef struct {
    PyObject_HEAD
    bool use_lock;
    int mode;
    int dirty;
    int ready;
    PyObject *table;
    long total;
    PyMutex mutex;
} Hasher;

static PyTypeObject HasherType;

static PyObject *
hasher_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Hasher *h = (Hasher *)type->tp_alloc(type, 0);
    if (h == NULL)
        return NULL;
    h->use_lock = true;
    h->mode = 0;
    h->dirty = 0;
    h->table = NULL;
    return (PyObject *)h;
}

/* ---- not a hazard: use_lock only ever becomes true ---- */

static PyObject *
hasher_update(Hasher *self, PyObject *arg)
{
    Py_ssize_t n = PyObject_Length(arg);
    if (n < 0)
        return NULL;
    if (!self->use_lock && n >= 2048) {
        self->use_lock = true;
    }
    if (self->use_lock) {
        PyMutex_Lock(&self->mutex);
        self->total += n;
        PyMutex_Unlock(&self->mutex);
    }
    Py_RETURN_NONE;
}

/* ---- hazards: dirty is also cleared, mode takes two values, ready guards
 * more work than its own store ---- */

static PyObject *
hasher_prepare(Hasher *self, PyObject *unused)
{
    if (!self->ready) {
        self->ready = 1; // CHECK-MESSAGES: :9: warning: FT007 in hasher_prepare: 'hasher_prepare' reads then writes self->ready with no critical section on 'self': two threads sharing the object can interleave and corrupt it
        self->table = PyDict_New();
    }
    Py_RETURN_NONE;
}

static PyObject *
hasher_touch(Hasher *self, PyObject *unused)
{
    if (!self->dirty)
        self->dirty = 1; // CHECK-MESSAGES: :9: warning: FT007 in hasher_touch: 'hasher_touch' reads then writes self->dirty with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyObject *
hasher_flush(Hasher *self, PyObject *unused)
{
    self->dirty = 0;
    Py_RETURN_NONE;
}

static PyObject *
hasher_switch(Hasher *self, PyObject *unused)
{
    if (self->mode == 0)
        self->mode = 1; // CHECK-MESSAGES: :9: warning: FT007 in hasher_switch: 'hasher_switch' reads then writes self->mode with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyMethodDef Hasher_methods[] = {
    {"update", (PyCFunction)hasher_update, METH_O, NULL},
    {"touch", (PyCFunction)hasher_touch, METH_NOARGS, NULL},
    {"flush", (PyCFunction)hasher_flush, METH_NOARGS, NULL},
    {"switch", (PyCFunction)hasher_switch, METH_NOARGS, NULL},
    {"prepare", (PyCFunction)hasher_prepare, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject HasherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_flags.Hasher",
    .tp_basicsize = sizeof(Hasher),
    .tp_new = hasher_new,
    .tp_methods = Hasher_methods,
};
