// FT003 and a list owned through a struct that stays in the call (the blocks
// output buffer): iterating it needs no lock. The same loop over a struct's
// list that a module-level pointer can reach still fires.
#include <Python.h>

typedef struct {
    PyObject *list;
} OutputBuffer;

static Py_ssize_t
buffer_total(OutputBuffer *buffer)
{
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffer->list); i++)
        total += PyBytes_GET_SIZE(PyList_GET_ITEM(buffer->list, i));
    return total;
}

static PyObject *
joined_size(PyObject *self, PyObject *unused)
{
    OutputBuffer buffer;
    buffer.list = PyList_New(0);
    if (buffer.list == NULL)
        return NULL;
    Py_ssize_t n = buffer_total(&buffer);
    Py_DECREF(buffer.list);
    return PyLong_FromSsize_t(n);
}

typedef struct {
    PyObject *list;
} Registry;

static Registry *current_registry;

static Py_ssize_t
registry_total(Registry *registry)
{
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(registry->list); i++) // CHECK-MESSAGES: :5: warning: FT003 in registry_total: loop over 'registry->list' with PyList_GET_ITEM and no critical section: another thread can shrink or change it, leaving the index past the end or the item freed
        total += PyBytes_GET_SIZE(PyList_GET_ITEM(registry->list, i));
    return total;
}

static PyObject *
registry_size(PyObject *self, PyObject *unused)
{
    Registry registry;
    registry.list = PyList_New(0);
    if (registry.list == NULL)
        return NULL;
    current_registry = &registry;
    Py_ssize_t n = registry_total(&registry);
    current_registry = NULL;
    Py_DECREF(registry.list);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"joined_size", joined_size, METH_NOARGS, NULL},
    {"registry_size", registry_size, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft003_local_struct", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft003_local_struct(void)
{
    return PyModuleDef_Init(&moduledef);
}
