// FT007 and state handed to helpers: passing &self->pairs to a helper is a
// write only if the helper, followed through the call graph, writes through
// it. A length slot that only reads stays quiet; a method whose helper
// grows the list reads then writes it. The same for a local pointer to the
// field (`pair_list *list = &self->pairs;`).
#include <Python.h>

typedef struct {
    Py_ssize_t size;
    Py_ssize_t capacity;
    Py_ssize_t marks[8];
} pair_list;

typedef struct {
    PyObject_HEAD
    pair_list pairs;
} MultiDict;

static Py_ssize_t
pair_list_len(const pair_list *list)
{
    return list->size;
}

static Py_ssize_t
pair_list_free(pair_list *list)
{
    return list->capacity - list->size;
}

static int
pair_list_grow(pair_list *list)
{
    list->capacity = list->capacity ? list->capacity * 2 : 8;
    return 0;
}

static int
pair_list_add(pair_list *list)
{
    if (list->size >= list->capacity && pair_list_grow(list) < 0)
        return -1;
    list->size++;
    return 0;
}

static void
pair_list_unmark(pair_list *list)
{
    memset(list->marks, 0, sizeof list->marks); /* an array field, decayed */
}

static void
pair_list_mark(pair_list *list, Py_ssize_t i)
{
    Py_ssize_t *mark = list->marks + (i & 7); /* pointer arithmetic */
    *mark = 1;
}

static Py_ssize_t
md_len(PyObject *op)
{
    MultiDict *self = (MultiDict *)op;
    return pair_list_len(&self->pairs);
}

static PyObject *
md_free(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    return PyLong_FromSsize_t(pair_list_free(&self->pairs));
}

static PyObject *
md_add(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    if (self->pairs.size > 1000)
        return NULL;
    if (pair_list_add(&self->pairs) < 0) // CHECK-MESSAGES: :24: warning: FT007 in md_add: 'md_add' reads then writes self->pairs with no critical section on 'self': two threads sharing the object can interleave and corrupt it
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
md_capacity(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    const pair_list *list = &self->pairs; /* only read through */
    const Py_ssize_t *capacity = &list->capacity; /* a copy, read too */
    return PyLong_FromSsize_t(*capacity);
}

static PyObject *
md_reset(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    pair_list *list;
    if (self->pairs.size == 0)
        Py_RETURN_NONE;
    list = &self->pairs; // CHECK-MESSAGES: :13: warning: FT007 in md_reset: 'md_reset' reads then writes self->pairs with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    list->size = 0;
    Py_RETURN_NONE;
}

static PyObject *
md_unmark(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    if (self->pairs.size == 0)
        Py_RETURN_NONE;
    pair_list_unmark(&self->pairs); // CHECK-MESSAGES: :23: warning: FT007 in md_unmark: 'md_unmark' reads then writes self->pairs with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyObject *
md_mark(PyObject *op, PyObject *unused)
{
    MultiDict *self = (MultiDict *)op;
    pair_list_mark(&self->pairs, self->pairs.size); // CHECK-MESSAGES: :21: warning: FT007 in md_mark: 'md_mark' reads then writes self->pairs with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyMethodDef md_methods[] = {
    {"free", md_free, METH_NOARGS, NULL},
    {"add", md_add, METH_NOARGS, NULL},
    {"capacity", md_capacity, METH_NOARGS, NULL},
    {"reset", md_reset, METH_NOARGS, NULL},
    {"unmark", md_unmark, METH_NOARGS, NULL},
    {"mark", md_mark, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot md_slots[] = {
    {Py_mp_length, md_len},
    {Py_tp_methods, md_methods},
    {0, NULL},
};

static PyType_Spec md_spec = {
    "ft007_helpers.MultiDict", sizeof(MultiDict), 0, Py_TPFLAGS_DEFAULT, md_slots,
};

static int
module_exec(PyObject *m)
{
    PyObject *t = PyType_FromSpec(&md_spec);
    return PyModule_AddObjectRef(m, "MultiDict", t);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft007_helpers", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft007_helpers(void)
{
    return PyModuleDef_Init(&moduledef);
}
