// FT007 and a slot the module also calls itself: collections' deque_clear is
// the type's tp_clear and the body of the locked clear() method, and pops
// through a helper that the locked pop() method uses too. The runtime calls
// tp_clear and tp_dealloc only on an object no other thread can reach, and
// tp_init on the one it just made, so the helpers run under the lock or on
// an object nobody else has; the lock is followed through a local that is
// the parameter under another type, and through a helper's calls of
// itself. The twin's clear() and push_n() take no lock, and its tp_init
// publishes the object before setting it up: its helpers are hazards. So
// are those of a tp_clear function that is also a method.
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

static void
stack_setup(Stack *st)
{
    if (st->items == NULL)
        st->items = PyMem_Calloc(8, sizeof(PyObject *));
}

static int
Stack_init(Stack *self, PyObject *args, PyObject *kwds)
{
    stack_setup(self);
    return stack_reserve(self, 8);
}

/* calls itself, passing the stack on unchanged */
static int
stack_push_n(Stack *st, PyObject *item, Py_ssize_t n)
{
    if (n <= 0)
        return 0;
    if (stack_reserve(st, st->len + 1) < 0)
        return -1;
    st->items[st->len++] = Py_NewRef(item);
    return stack_push_n(st, item, n - 1);
}

static PyObject *
Stack_push_n(Stack *self, PyObject *item)
{
    int rc;
    Py_BEGIN_CRITICAL_SECTION(self);
    stack_setup(self);
    rc = stack_push_n(self, item, 3);
    Py_END_CRITICAL_SECTION();
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* locks `self`, the local, and hands it on */
static PyObject *
Stack_drop(PyObject *op, PyObject *unused)
{
    Stack *self = (Stack *)op;
    PyObject *item = NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->len > 0)
        item = stack_pop_item(self);
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(item);
    Py_RETURN_NONE;
}

static PyMethodDef Stack_methods[] = {
    {"push_n", (PyCFunction)Stack_push_n, METH_O, NULL},
    {"drop", (PyCFunction)Stack_drop, METH_NOARGS, NULL},
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
    // CHECK-EVIDENCE: reached with no lock from Pile_clearmethod (line 198) -> pile_clear (line 175), which passes 'pl'
    PyObject *item = pl->items[pl->len];
    pl->items[pl->len] = NULL; // CHECK-MESSAGES: :5: warning: FT007 in pile_pop_item: 'pile_pop_item' reads then writes pl->items with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Pile_clearmethod (line 198) -> pile_clear (line 175), which passes 'pl'
    return item;
}

static int
pile_clear(Pile *pl)
{
    while (pl->len > 0)
        Py_DECREF(pile_pop_item(pl));
    return 0;
}

static void pile_setup(Pile *pl);

static PyObject *
Pile_pop(Pile *self, PyObject *unused)
{
    PyObject *item = NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    pile_setup(self);
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
    // CHECK-EVIDENCE: reached with no lock from Pile_init (line 230), which passes 'self'
    // CHECK-EVIDENCE: reached with no lock from Pile_push_n (line 248) -> pile_push_n (line 238), which passes 'pl'
    return 0;
}

static Pile *last_pile; /* a module-level cache other threads read */

static void
pile_setup(Pile *pl)
{
    if (pl->items == NULL)
        pl->items = PyMem_Calloc(8, sizeof(PyObject *)); // CHECK-MESSAGES: :9: warning: FT007 in pile_setup: 'pile_setup' reads then writes pl->items with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
        // CHECK-EVIDENCE: reached with no lock from Pile_init (line 229), which passes 'self'
}

/* publishes the object before it sets it up */
static int
Pile_init(Pile *self, PyObject *args, PyObject *kwds)
{
    last_pile = self;
    pile_setup(self);
    return pile_reserve(self, 8);
}

static int
pile_push_n(Pile *pl, PyObject *item, Py_ssize_t n)
{
    if (n <= 0)
        return 0;
    if (pile_reserve(pl, pl->len + 1) < 0)
        return -1;
    pl->items[pl->len++] = Py_NewRef(item); // CHECK-MESSAGES: :15: warning: FT007 in pile_push_n: 'pile_push_n' reads then writes pl->len with no critical section on 'pl': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Pile_push_n (line 248), which passes 'self'
    return pile_push_n(pl, item, n - 1);
}

static PyObject *
Pile_push_n(Pile *self, PyObject *item)
{
    if (pile_push_n(self, item, 3) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Pile_methods[] = {
    {"push_n", (PyCFunction)Pile_push_n, METH_O, NULL},
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

/* ---- hazard: the tp_clear function is also a method Python calls ---- */

typedef struct {
    PyObject_HEAD
    PyObject **items;
    Py_ssize_t len;
} Heap;

static PyObject *
heap_pop_item(Heap *hp)
{
    hp->len--; // CHECK-MESSAGES: :5: warning: FT007 in heap_pop_item: 'heap_pop_item' reads then writes hp->len with no critical section on 'hp': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from heap_clear (line 287), which passes 'hp'
    return hp->items[hp->len];
}

static int
heap_clear(Heap *hp)
{
    while (hp->len > 0)
        Py_DECREF(heap_pop_item(hp));
    return 0;
}

static PyMethodDef Heap_methods[] = {
    {"clear", (PyCFunction)heap_clear, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Heap_slots[] = {
    {Py_tp_clear, heap_clear},
    {Py_tp_methods, Heap_methods},
    {0, NULL},
};

static PyType_Spec Heap_spec = {"ft007_slots.Heap", sizeof(Heap), 0,
                                Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                                Heap_slots};
static PyType_Spec Stack_spec = {"ft007_slots.Stack", sizeof(Stack), 0,
                                 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                                 Stack_slots};
static PyType_Spec Pile_spec = {"ft007_slots.Pile", sizeof(Pile), 0,
                                Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                                Pile_slots};
