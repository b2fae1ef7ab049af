// FT007 and a slot the module also calls itself: collections' deque_clear is
// the type's tp_clear and the body of the locked clear() method, and pops
// through a helper that the locked pop() method uses too. The runtime calls
// tp_clear and tp_dealloc only on an object no other thread can reach, and
// tp_init on the one it just made, so the helpers run under the lock or on
// an object nobody else has; the lock is followed through a local that is
// the parameter under another type, and through a helper's calls of
// itself. The twin's clear() and push_all() take no lock: its helpers are
// hazards.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject **items;
    Py_ssize_t len;
} Stack;

/* ---- not hazards: every caller holds the lock or the object alone ---- */

static PyObject *
stack_pop_item(Stack *st)
{
    st->len--;
    PyObject *item = st->items[st->len];
    st->items[st->len] = NULL;
    return item;
}

static int
stack_clear(Stack *st)
{
    while (st->len > 0)
        Py_DECREF(stack_pop_item(st));
    return 0;
}

static void
stack_dealloc(Stack *st)
{
    PyObject_GC_UnTrack(st);
    stack_clear(st);
    PyMem_Free(st->items);
    Py_TYPE(st)->tp_free((PyObject *)st);
}

/* locks `op` and hands on `self`: the same object under another type */
static PyObject *
Stack_pop(PyObject *op, PyObject *unused)
{
    Stack *self = (Stack *)op;
    PyObject *item = NULL;
    Py_BEGIN_CRITICAL_SECTION(op);
    if (self->len > 0)
        item = stack_pop_item(self);
    Py_END_CRITICAL_SECTION();
    if (item == NULL)
        Py_RETURN_NONE;
    return item;
}

static PyObject *
Stack_clearmethod(Stack *self, PyObject *unused)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    stack_clear(self);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

/* grows the array; tp_init (on the object type_call just made) and the
   locked push_all() call it */
static int
stack_reserve(Stack *st, Py_ssize_t n)
{
    PyObject **items = PyMem_Realloc(st->items, n * sizeof(PyObject *));
    if (items == NULL)
        return -1;
    st->items = items;
    return 0;
}

static int
Stack_init(Stack *self, PyObject *args, PyObject *kwds)
{
    return stack_reserve(self, 8);
}

/* calls itself on nested lists, passing the stack on unchanged */
static int
stack_push_all(Stack *st, PyObject *list)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (PyList_CheckExact(item)) {
            if (stack_push_all(st, item) < 0)
                return -1;
            continue;
        }
        if (stack_reserve(st, st->len + 1) < 0)
            return -1;
        st->items[st->len++] = Py_NewRef(item);
    }
    return 0;
}

static PyObject *
Stack_push_all(Stack *self, PyObject *list)
{
    int rc = -1;
    if (!PyList_CheckExact(list))
        Py_RETURN_NONE;
    Py_BEGIN_CRITICAL_SECTION2(self, list);
    rc = stack_push_all(self, list);
    Py_END_CRITICAL_SECTION2();
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Stack_methods[] = {
    {"push_all", (PyCFunction)Stack_push_all, METH_O, NULL},
    {"pop", (PyCFunction)Stack_pop, METH_NOARGS, NULL},
    {"clear", (PyCFunction)Stack_clearmethod, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Stack_slots[] = {
    {Py_tp_dealloc, stack_dealloc},
    {Py_tp_clear, stack_clear},
    {Py_tp_init, Stack_init},
    {Py_tp_methods, Stack_methods},
    {0, NULL},
};

/* ---- hazards: clear() runs the helper on a shared object, unlocked ---- */

typedef struct {
    PyObject_HEAD
    PyObject **items;
    Py_ssize_t len;
} Pile;

static PyObject *
pile_pop_item(Pile *pl)
{
    pl->len--; // CHECK-MESSAGES: :5: warning: FT007 in pile_pop_item: 'pile_pop_item' reads then writes pl->len with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Pile_clearmethod (line 178) -> pile_clear (line 158), which passes 'pl'
    PyObject *item = pl->items[pl->len];
    pl->items[pl->len] = NULL; // CHECK-MESSAGES: :5: warning: FT007 in pile_pop_item: 'pile_pop_item' reads then writes pl->items with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Pile_clearmethod (line 178) -> pile_clear (line 158), which passes 'pl'
    return item;
}

static int
pile_clear(Pile *pl)
{
    while (pl->len > 0)
        Py_DECREF(pile_pop_item(pl));
    return 0;
}

static PyObject *
Pile_pop(Pile *self, PyObject *unused)
{
    PyObject *item = NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->len > 0)
        item = pile_pop_item(self);
    Py_END_CRITICAL_SECTION();
    if (item == NULL)
        Py_RETURN_NONE;
    return item;
}

static PyObject *
Pile_clearmethod(Pile *self, PyObject *unused)
{
    pile_clear(self);
    Py_RETURN_NONE;
}

static int
pile_reserve(Pile *pl, Py_ssize_t n)
{
    PyObject **items = PyMem_Realloc(pl->items, n * sizeof(PyObject *));
    if (items == NULL)
        return -1;
    pl->items = items; // CHECK-MESSAGES: :5: warning: FT007 in pile_reserve: 'pile_reserve' reads then writes pl->items with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Pile_push_all (line 220) -> pile_push_all (line 209), which passes 'pl'
    return 0;
}

static int
Pile_init(Pile *self, PyObject *args, PyObject *kwds)
{
    return pile_reserve(self, 8);
}

static int
pile_push_all(Pile *pl, PyObject *list)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (PyList_CheckExact(item)) {
            if (pile_push_all(pl, item) < 0)
                return -1;
            continue;
        }
        if (pile_reserve(pl, pl->len + 1) < 0)
            return -1;
        pl->items[pl->len++] = Py_NewRef(item); // CHECK-MESSAGES: :19: warning: FT007 in pile_push_all: 'pile_push_all' reads then writes pl->len with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
        // CHECK-EVIDENCE: reached with no lock from Pile_push_all (line 220), which passes 'self'
    }
    return 0;
}

static PyObject *
Pile_push_all(Pile *self, PyObject *list)
{
    if (!PyList_CheckExact(list) || pile_push_all(self, list) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Pile_methods[] = {
    {"push_all", (PyCFunction)Pile_push_all, METH_O, NULL},
    {"pop", (PyCFunction)Pile_pop, METH_NOARGS, NULL},
    {"clear", (PyCFunction)Pile_clearmethod, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Pile_slots[] = {
    {Py_tp_clear, pile_clear},
    {Py_tp_init, Pile_init},
    {Py_tp_methods, Pile_methods},
    {0, NULL},
};

static PyType_Spec Stack_spec = {"ft007_slots.Stack", sizeof(Stack), 0,
                                 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                                 Stack_slots};
static PyType_Spec Pile_spec = {"ft007_slots.Pile", sizeof(Pile), 0,
                                Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                                Pile_slots};
