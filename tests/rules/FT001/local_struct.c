// FT001 and containers owned through a struct that stays in the call: the
// blocks output buffer compression modules copy from CPython keeps a fresh
// list in a field of a struct on the caller's stack and passes the struct
// by pointer to helpers. Nobody else can reach that list. The same helpers
// on a struct that escapes (a global) still fire.
#include <Python.h>

typedef struct {
    PyObject *list;
    Py_ssize_t allocated;
} OutputBuffer;

static int
buffer_init(OutputBuffer *buffer)
{
    buffer->list = PyList_New(0);
    buffer->allocated = 0;
    return buffer->list ? 0 : -1;
}

static int
buffer_grow(OutputBuffer *buffer, Py_ssize_t size)
{
    PyObject *block = PyBytes_FromStringAndSize(NULL, size);
    if (block == NULL)
        return -1;
    int r = PyList_Append(buffer->list, block);
    Py_DECREF(block);
    buffer->allocated += size;
    return r;
}

static PyObject *
buffer_finish(OutputBuffer *buffer)
{
    PyObject *first = PyList_GET_ITEM(buffer->list, 0);
    PyObject *result = PyBytes_FromObject(first);
    Py_CLEAR(buffer->list);
    return result;
}

static PyObject *
compress(PyObject *self, PyObject *unused)
{
    OutputBuffer buffer = {NULL, 0};
    if (buffer_init(&buffer) < 0)
        return NULL;
    if (buffer_grow(&buffer, 16) < 0) {
        Py_CLEAR(buffer.list);
        return NULL;
    }
    return buffer_finish(&buffer);
}

/* The same shape on a struct that escapes: a global, reached by every
   thread. */

typedef struct {
    PyObject *list;
} SharedBuffer;

static SharedBuffer shared;

static PyObject *
shared_first(SharedBuffer *buffer)
{
    PyObject *first = PyList_GET_ITEM(buffer->list, 0); // CHECK-MESSAGES: :23: warning: FT001 in shared_first: borrowed reference from PyList_GET_ITEM(buffer->list) kept in 'first': without the GIL another thread can remove the item from 'buffer->list' and free it before it is used
    return Py_NewRef(first);
}

static PyObject *
shared_start(PyObject *self, PyObject *unused)
{
    shared.list = PyList_New(0);
    if (shared.list == NULL)
        return NULL;
    return shared_first(&shared);
}

/* A local struct whose list is published to a global. */

typedef struct {
    PyObject *list;
} LeakyBuffer;

static PyObject *last_list;

static PyObject *
leaky(PyObject *self, PyObject *unused)
{
    LeakyBuffer buffer;
    buffer.list = PyList_New(1);
    if (buffer.list == NULL)
        return NULL;
    Py_XSETREF(last_list, Py_NewRef(buffer.list));
    PyObject *item = PyList_GET_ITEM(buffer.list, 0); // CHECK-MESSAGES: :22: warning: FT001 in leaky: borrowed reference from PyList_GET_ITEM(buffer.list) kept in 'item': without the GIL another thread can remove the item from 'buffer.list' and free it before it is used
    return Py_XNewRef(item);
}

/* A local struct whose field PyArg_ParseTuple fills with the caller's
   object: shared, whatever the struct is. */

typedef struct {
    PyObject *seq;
} Args;

static PyObject *
parsed_first(PyObject *self, PyObject *args)
{
    Args a;
    a.seq = NULL;
    if (!PyArg_ParseTuple(args, "O", &a.seq))
        return NULL;
    PyObject *first = PyList_GetItem(a.seq, 0); // CHECK-MESSAGES: :23: warning: FT001 in parsed_first: borrowed reference from PyList_GetItem(a.seq) kept in 'first': without the GIL another thread can remove the item from 'a.seq' and free it before it is used
    return Py_XNewRef(first);
}

static PyMethodDef methods[] = {
    {"compress", compress, METH_NOARGS, NULL},
    {"shared_start", shared_start, METH_NOARGS, NULL},
    {"leaky", leaky, METH_NOARGS, NULL},
    {"parsed_first", parsed_first, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft001_local_struct", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft001_local_struct(void)
{
    return PyModuleDef_Init(&moduledef);
}
