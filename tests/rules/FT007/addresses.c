// FT007 and a field whose address is only compared: _testbuffer's
// ND_IS_CONSUMER(nd) is `nd->head == &nd->staticbuf`, which writes nothing:
// it counts as a read. Writing the same field after it is still reported.
#include <Python.h>

typedef struct {
    Py_ssize_t len;
    char data[16];
} Chunk;

typedef struct {
    PyObject_HEAD
    Chunk *head;
    Chunk inline_chunk;
} Stream;

/* ---- not a hazard: the address is compared, nothing is written ---- */

static PyObject *
stream_is_inline(Stream *self, PyObject *unused)
{
    if (self->head == &self->inline_chunk)
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* ---- hazard: the inline chunk is read, then stepped ---- */

static PyObject *
stream_grow(Stream *self, PyObject *unused)
{
    if (self->head != &self->inline_chunk && self->inline_chunk.len < 16)
        self->inline_chunk.len++; // CHECK-MESSAGES: :9: warning: FT007 in stream_grow: 'stream_grow' reads then writes self->inline_chunk with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

/* The comparison counts as a read of the field, so a plain write after it
 * is reported as a read then a write. */
static PyObject *
stream_reset(Stream *self, PyObject *unused)
{
    if (self->head != &self->inline_chunk)
        self->inline_chunk.len = 0; // CHECK-MESSAGES: :9: warning: FT007 in stream_reset: 'stream_reset' reads then writes self->inline_chunk with no critical section on 'self': two threads sharing the object can interleave and corrupt it
    Py_RETURN_NONE;
}

static PyMethodDef Stream_methods[] = {
    {"is_inline", (PyCFunction)stream_is_inline, METH_NOARGS, NULL},
    {"grow", (PyCFunction)stream_grow, METH_NOARGS, NULL},
    {"reset", (PyCFunction)stream_reset, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StreamType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_addresses.Stream",
    .tp_basicsize = sizeof(Stream),
    .tp_methods = Stream_methods,
};
