// FT007 and locks on another object: a lock protects the object it belongs
// to. Holding another object's mutex or critical section does not protect
// self; a lock that belongs to no object (a static mutex) does.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    long pos;
    long total;
    long size;
    PyMutex mutex;
} Node;

static PyMutex registry_lock;

/* ---- hazards ---- */

static PyObject *
node_absorb(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    Node *other = (Node *)arg;
    PyMutex_Lock(&other->mutex);
    self->total = self->total + other->pos; // CHECK-MESSAGES: :5: warning: FT007 in node_absorb: 'node_absorb' reads then writes self->total with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    PyMutex_Unlock(&other->mutex);
    Py_RETURN_NONE;
}

static PyObject *
node_follow(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    Py_BEGIN_CRITICAL_SECTION(arg);
    self->pos++; // CHECK-MESSAGES: :5: warning: FT007 in node_follow: 'node_follow' reads then writes self->pos with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static void
node_add_one(Node *node)
{
    node->total = node->total + 1; // CHECK-MESSAGES: :5: warning: FT007 in node_add_one: 'node_add_one' reads then writes node->total with no critical section on 'node': two threads sharing the object can interleave and corrupt it
}

static PyObject *
node_absorb_by_helper(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    Node *other = (Node *)arg;
    PyMutex_Lock(&other->mutex);
    node_add_one(self); /* the helper runs under other's mutex, not self's */
    PyMutex_Unlock(&other->mutex);
    Py_RETURN_NONE;
}

static PyObject *
node_step_or_back(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    if (arg == Py_None) {
        PyMutex_Unlock(&self->mutex);
        self->pos = self->pos - 1; // CHECK-MESSAGES: :9: warning: FT007 in node_step_or_back: 'node_step_or_back' reads then writes self->pos with no critical section on 'self': two threads sharing the object can interleave and corrupt it
        Py_RETURN_NONE;
    }
    self->pos = self->pos + 1; /* the early exit's unlock does not reach here */
    PyMutex_Unlock(&self->mutex);
    Py_RETURN_NONE;
}

/* A block that takes and releases the lock itself before it returns: the
 * code after it never held the lock. */
static PyObject *
node_reset_or_grow(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    if (arg == Py_None) {
        PyMutex_Lock(&self->mutex);
        self->size = 0;
        PyMutex_Unlock(&self->mutex);
        Py_RETURN_NONE;
    }
    self->size = self->size + 1; // CHECK-MESSAGES: :5: warning: FT007 in node_reset_or_grow: 'node_reset_or_grow' reads then writes self->size with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

/* A switch whose case unlocks and breaks out: past the switch, that path
 * holds nothing, though other cases unlock and return. */
static PyObject *
node_dispatch(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    switch (PyLong_AsLong(arg)) {
    case 0:
        self->size = 0;
        PyMutex_Unlock(&self->mutex);
        break;
    case 1:
        PyMutex_Unlock(&self->mutex);
        return NULL;
    default:
        PyMutex_Unlock(&self->mutex);
        Py_RETURN_NONE;
    }
    self->total = self->total + 1; // CHECK-MESSAGES: :5: warning: FT007 in node_dispatch: 'node_dispatch' reads then writes self->total with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

/* An unlock followed by a forward goto: the label is reached unlocked. */
static PyObject *
node_retry(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    if (arg == Py_None) {
        PyMutex_Unlock(&self->mutex);
        goto unlocked;
    }
    self->size = 0;
unlocked:
    self->total = self->total + 2; // CHECK-MESSAGES: :5: warning: FT007 in node_retry: 'node_retry' reads then writes self->total with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    if (arg != Py_None)
        PyMutex_Unlock(&self->mutex);
    Py_RETURN_NONE;
}

/* The main path unlocks through a helper the extents do not follow: the
 * early exit's unlock still ends the extent. */
static void
node_release(Node *n)
{
    PyMutex_Unlock(&n->mutex);
}

static PyObject *
node_take_then_count(PyObject *op, PyObject *unused)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    if (self->size == 0) {
        PyMutex_Unlock(&self->mutex);
        return NULL;
    }
    node_release(self);
    self->total = self->total + 3; // CHECK-MESSAGES: :5: warning: FT007 in node_take_then_count: 'node_take_then_count' reads then writes self->total with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

/* A goto from before the lock lands past the early exit. */
static PyObject *
node_skip(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    if (arg == Py_None)
        goto update;
    PyMutex_Lock(&self->mutex);
    if (self->size < 0) {
        PyMutex_Unlock(&self->mutex);
        return NULL;
    }
update:
    self->pos = self->pos + 3; // CHECK-MESSAGES: :5: warning: FT007 in node_skip: 'node_skip' reads then writes self->pos with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    if (arg != Py_None)
        PyMutex_Unlock(&self->mutex);
    Py_RETURN_NONE;
}

/* ---- not hazards ---- */

static PyObject *
node_bump(PyObject *op, PyObject *unused)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    self->pos = self->pos + 1;
    PyMutex_Unlock(&self->mutex);
    Py_RETURN_NONE;
}

static PyObject *
node_register(PyObject *op, PyObject *unused)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&registry_lock);
    self->size = self->size + 1;
    PyMutex_Unlock(&registry_lock);
    Py_RETURN_NONE;
}

static PyObject *
node_merge(PyObject *op, PyObject *arg)
{
    Node *self = (Node *)op;
    Node *other = (Node *)arg;
    Py_BEGIN_CRITICAL_SECTION2(op, arg);
    self->total = self->total + other->total;
    other->total = 0;
    Py_END_CRITICAL_SECTION2();
    Py_RETURN_NONE;
}

static PyObject *
node_take(PyObject *op, PyObject *unused)
{
    Node *self = (Node *)op;
    PyMutex_Lock(&self->mutex);
    if (self->size == 0) {
        PyMutex_Unlock(&self->mutex); /* the error path leaves */
        return PyLong_FromLong(-1);
    }
    self->size = self->size - 1; /* still under the lock */
    PyMutex_Unlock(&self->mutex);
    Py_RETURN_NONE;
}

static PyMethodDef node_methods[] = {
    {"absorb", node_absorb, METH_O, NULL},
    {"follow", node_follow, METH_O, NULL},
    {"absorb_by_helper", node_absorb_by_helper, METH_O, NULL},
    {"bump", node_bump, METH_NOARGS, NULL},
    {"register", node_register, METH_NOARGS, NULL},
    {"merge", node_merge, METH_O, NULL},
    {"step_or_back", node_step_or_back, METH_O, NULL},
    {"reset_or_grow", node_reset_or_grow, METH_O, NULL},
    {"dispatch", node_dispatch, METH_O, NULL},
    {"retry", node_retry, METH_O, NULL},
    {"take_then_count", node_take_then_count, METH_NOARGS, NULL},
    {"skip", node_skip, METH_O, NULL},
    {"take", node_take, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot node_slots[] = {
    {Py_tp_methods, node_methods},
    {0, NULL},
};

static PyType_Spec node_spec = {
    "ft007_locks.Node", sizeof(Node), 0, Py_TPFLAGS_DEFAULT, node_slots,
};

static int
module_exec(PyObject *m)
{
    PyObject *t = PyType_FromSpec(&node_spec);
    return PyModule_AddObjectRef(m, "Node", t);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft007_locks", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft007_locks(void)
{
    return PyModuleDef_Init(&moduledef);
}
