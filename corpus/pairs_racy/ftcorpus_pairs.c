/* ftcorpus_pairs: races a same-call loop cannot find. Each function is safe
 * when every thread calls it alone; the hazards need two different calls at
 * once, or the first calls of a fresh process:
 *  - track() writes the ring under a mutex, newest() reads it without one;
 *  - record() appends to a module-level list (the list locks itself),
 *    latest() reads its size and last item with the unlocked macros;
 *  - Label.set() swaps self->text inside a critical section, Label.length()
 *    reads it outside one;
 *  - dumps() creates its encoder on first use, with no lock: threads that
 *    make their first call together each create one.
 * The fixed twin is pairs_fixed/. */
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
    Py_ssize_t n = ring_count; /* no lock: track() may be mid-update */
    if (n == 0)
        Py_RETURN_NONE;
    return Py_NewRef(ring[(n - 1) % RING]);
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
    Py_ssize_t n = Py_SIZE(history);
    if (n == 0)
        Py_RETURN_NONE;
    return Py_NewRef(PyList_GET_ITEM(history, n - 1)); /* no lock */
}

static PyObject *encoder; /* json.dumps, on first use */

static PyObject *
dumps(PyObject *module, PyObject *obj)
{
    if (encoder == NULL) {
        PyObject *json = PyImport_ImportModule("json");
        if (json == NULL)
            return NULL;
        encoder = PyObject_GetAttrString(json, "dumps");
        Py_DECREF(json);
        if (encoder == NULL)
            return NULL;
    }
    return PyObject_CallOneArg(encoder, obj);
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
    PyObject *text = self->text; /* no critical section */
    if (text == NULL || !PyUnicode_Check(text))
        return PyLong_FromLong(-1);
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text));
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
    .tp_name = "ftcorpus_pairs.Label",
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
    PyModuleDef_HEAD_INIT, "ftcorpus_pairs", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_pairs(void)
{
    return PyModuleDef_Init(&moduledef);
}
