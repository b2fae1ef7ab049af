/* ftcorpus_pairs_fixed: pairs_racy/ with each hazard fixed as ftready says:
 *  - newest() reads the ring under the mutex track() writes it under;
 *  - latest() takes a strong reference with PyList_GetItemRef, inside a
 *    critical section on the list so that its size and item agree;
 *  - Label.length() reads self->text inside a critical section on self;
 *  - dumps() checks its encoder again under a mutex before creating it. */
#include <Python.h>

enum { RING = 16 };

static PyMutex ring_lock;
static PyObject *ring[RING];
static Py_ssize_t ring_count;

static PyObject *
track(PyObject *module, PyObject *obj)
{
    PyMutex_Lock(&ring_lock);
    Py_XSETREF(ring[ring_count % RING], Py_NewRef(obj));
    ring_count++;
    PyMutex_Unlock(&ring_lock);
    Py_RETURN_NONE;
}

static PyObject *
newest(PyObject *module, PyObject *unused)
{
    PyObject *last = Py_None;
    PyMutex_Lock(&ring_lock);
    if (ring_count > 0)
        last = ring[(ring_count - 1) % RING];
    Py_INCREF(last);
    PyMutex_Unlock(&ring_lock);
    return last;
}

static PyObject *history; /* a list, made once in module exec */

static PyObject *
record(PyObject *module, PyObject *obj)
{
    if (PyList_Append(history, obj) < 0)
        return NULL;
    if (PyList_GET_SIZE(history) > 64 &&
        PyList_SetSlice(history, 0, 32, NULL) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
latest(PyObject *module, PyObject *unused)
{
    PyObject *last = NULL;
    Py_BEGIN_CRITICAL_SECTION(history);
    Py_ssize_t n = PyList_Size(history);
    last = n > 0 ? PyList_GetItemRef(history, n - 1) : Py_NewRef(Py_None);
    Py_END_CRITICAL_SECTION();
    return last;
}

static PyObject *encoder; /* json.dumps, on first use */
static PyMutex encoder_lock;

static PyObject *
dumps(PyObject *module, PyObject *obj)
{
    PyMutex_Lock(&encoder_lock);
    if (encoder == NULL) {
        PyObject *json = PyImport_ImportModule("json");
        if (json != NULL) {
            encoder = PyObject_GetAttrString(json, "dumps");
            Py_DECREF(json);
        }
    }
    PyObject *enc = Py_XNewRef(encoder);
    PyMutex_Unlock(&encoder_lock);
    if (enc == NULL)
        return NULL;
    PyObject *r = PyObject_CallOneArg(enc, obj);
    Py_DECREF(enc);
    return r;
}

typedef struct {
    PyObject_HEAD
    PyObject *text;
} Label;

static PyObject *
Label_set(Label *self, PyObject *text)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->text, Py_NewRef(text));
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static PyObject *
Label_length(Label *self, PyObject *unused)
{
    Py_ssize_t n = -1;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->text != NULL && PyUnicode_Check(self->text))
        n = PyUnicode_GET_LENGTH(self->text);
    Py_END_CRITICAL_SECTION();
    return PyLong_FromSsize_t(n);
}

static void
Label_dealloc(Label *self)
{
    Py_XDECREF(self->text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Label_methods[] = {
    {"set", (PyCFunction)Label_set, METH_O, NULL},
    {"length", (PyCFunction)Label_length, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LabelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ftcorpus_pairs_fixed.Label",
    .tp_basicsize = sizeof(Label),
    .tp_dealloc = (destructor)Label_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Label_methods,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef methods[] = {
    {"track", track, METH_O, NULL},
    {"newest", newest, METH_NOARGS, NULL},
    {"record", record, METH_O, NULL},
    {"latest", latest, METH_NOARGS, NULL},
    {"dumps", dumps, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static int
pairs_exec(PyObject *module)
{
    history = PyList_New(0);
    if (history == NULL || PyType_Ready(&LabelType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Label", (PyObject *)&LabelType);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, pairs_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_pairs_fixed", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_pairs_fixed(void)
{
    return PyModuleDef_Init(&moduledef);
}
