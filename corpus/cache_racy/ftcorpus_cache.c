/* ftcorpus_cache: a small memoising cache extension, written the way many
 * extensions were written for the GIL. Every hazard is seeded on purpose and
 * listed in ground_truth.json; cache_fixed/ is its free-threading-ready twin.
 */
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *data;  /* dict: key -> value */
    long hits;
    long misses;
} Cache;

static long total_lookups;          /* module-wide statistics */
static char last_key[64];

static PyObject *
Cache_get(Cache *self, PyObject *args)
{
    PyObject *key, *factory;
    if (!PyArg_ParseTuple(args, "OO", &key, &factory))
        return NULL;
    total_lookups++;
    PyObject *value = PyDict_GetItemWithError(self->data, key);
    if (value != NULL) {
        self->hits++;
        PyObject *checked = PyObject_CallOneArg(factory, value);
        if (checked == NULL)
            return NULL;
        Py_DECREF(checked);
        return Py_NewRef(value);
    }
    if (PyErr_Occurred())
        return NULL;
    self->misses = self->misses + 1;
    value = PyObject_CallNoArgs(factory);
    if (value == NULL)
        return NULL;
    if (PyDict_SetItem(self->data, key, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *
Cache_keys_joined(Cache *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    while (PyDict_Next(self->data, &pos, &key, &value)) {
        if (PyList_Append(out, key) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

static PyObject *
Cache_clear(Cache *self, PyObject *unused)
{
    PyDict_Clear(self->data);
    Py_RETURN_NONE;
}

static PyObject *
Cache_stats(Cache *self, PyObject *unused)
{
    return Py_BuildValue("(ll)", self->hits, self->misses);
}

static PyObject *
remember_key(PyObject *module, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    if (s == NULL)
        return NULL;
    strncpy(last_key, s, sizeof last_key - 1);
    char *first = strtok(last_key, ".");
    return PyUnicode_FromString(first ? first : "");
}

static PyObject *
lookups(PyObject *module, PyObject *unused)
{
    return PyLong_FromLong(total_lookups);
}

static PyObject *
Cache_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Cache *self = (Cache *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->data = PyDict_New();
    if (self->data == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
Cache_dealloc(Cache *self)
{
    Py_CLEAR(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Cache_methods[] = {
    {"get", (PyCFunction)Cache_get, METH_VARARGS, "get(key, factory)"},
    {"keys", (PyCFunction)Cache_keys_joined, METH_NOARGS, "keys()"},
    {"clear", (PyCFunction)Cache_clear, METH_NOARGS, "clear()"},
    {"stats", (PyCFunction)Cache_stats, METH_NOARGS, "stats()"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Cache_slots[] = {
    {Py_tp_new, Cache_new},
    {Py_tp_dealloc, Cache_dealloc},
    {Py_tp_methods, Cache_methods},
    {0, NULL},
};

static PyType_Spec Cache_spec = {
    "ftcorpus_cache.Cache", sizeof(Cache), 0, Py_TPFLAGS_DEFAULT, Cache_slots,
};

static PyMethodDef module_methods[] = {
    {"remember_key", remember_key, METH_O, "remember_key(str)"},
    {"lookups", lookups, METH_NOARGS, "lookups()"},
    {NULL, NULL, 0, NULL},
};

static int
cache_exec(PyObject *m)
{
    total_lookups = 0;
    PyObject *type = PyType_FromSpec(&Cache_spec);
    if (type == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(m, "Cache", type);
    Py_DECREF(type);
    return rc;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, cache_exec},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_cache", NULL, 0, module_methods,
    module_slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_cache(void)
{
    return PyModuleDef_Init(&moduledef);
}
