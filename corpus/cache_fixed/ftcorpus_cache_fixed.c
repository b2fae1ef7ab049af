/* ftcorpus_cache_fixed: the free-threading-ready twin of cache_racy/.
 * Each hazard of the racy module is fixed the way ftready suggests.
 */
#include <Python.h>
#include <stdatomic.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *data;  /* dict: key -> value */
    long hits;       /* guarded by the object's critical section */
    long misses;
} Cache;

static _Atomic long total_lookups;   /* fix FT002: atomic counter */

static PyObject *
Cache_get(Cache *self, PyObject *args)
{
    PyObject *key, *factory, *value;
    if (!PyArg_ParseTuple(args, "OO", &key, &factory))
        return NULL;
    atomic_fetch_add(&total_lookups, 1);
    /* fix FT001: a strong reference */
    int found = PyDict_GetItemRef(self->data, key, &value);
    if (found < 0)
        return NULL;
    if (found) {
        /* fix FT007: read-modify-write under the object's lock */
        Py_BEGIN_CRITICAL_SECTION(self);
        self->hits++;
        Py_END_CRITICAL_SECTION();
        PyObject *checked = PyObject_CallOneArg(factory, value);
        if (checked == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        Py_DECREF(checked);
        return value;
    }
    Py_BEGIN_CRITICAL_SECTION(self);
    self->misses = self->misses + 1;
    Py_END_CRITICAL_SECTION();
    value = PyObject_CallNoArgs(factory);
    if (value == NULL)
        return NULL;
    PyObject *stored = NULL;
    if (PyDict_SetDefaultRef(self->data, key, value, &stored) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    Py_DECREF(value);
    return stored;
}

static PyObject *
Cache_keys_joined(Cache *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    int failed = 0;
    /* fix FT003: the whole iteration under the dict's lock */
    Py_BEGIN_CRITICAL_SECTION(self->data);
    while (PyDict_Next(self->data, &pos, &key, &value)) {
        if (PyList_Append(out, key) < 0) {
            failed = 1;
            break;
        }
    }
    Py_END_CRITICAL_SECTION();
    if (failed) {
        Py_DECREF(out);
        return NULL;
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
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(self);
    r = Py_BuildValue("(ll)", self->hits, self->misses);
    Py_END_CRITICAL_SECTION();
    return r;
}

static PyObject *
remember_key(PyObject *module, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    if (s == NULL)
        return NULL;
    char key[64], *save = NULL;     /* fix FT002/FT005: local buffer, strtok_r */
    strncpy(key, s, sizeof key - 1);
    key[sizeof key - 1] = 0;
    char *first = strtok_r(key, ".", &save);
    return PyUnicode_FromString(first ? first : "");
}

static PyObject *
lookups(PyObject *module, PyObject *unused)
{
    return PyLong_FromLong(atomic_load(&total_lookups));
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
    "ftcorpus_cache_fixed.Cache", sizeof(Cache), 0, Py_TPFLAGS_DEFAULT,
    Cache_slots,
};

static PyMethodDef module_methods[] = {
    {"remember_key", remember_key, METH_O, "remember_key(str)"},
    {"lookups", lookups, METH_NOARGS, "lookups()"},
    {NULL, NULL, 0, NULL},
};

static int
cache_exec(PyObject *m)
{
    PyObject *type = PyType_FromSpec(&Cache_spec);
    if (type == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(m, "Cache", type);
    Py_DECREF(type);
    return rc;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, cache_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},   /* fix FT004 */
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ftcorpus_cache_fixed", NULL, 0, module_methods,
    module_slots,
};

PyMODINIT_FUNC
PyInit_ftcorpus_cache_fixed(void)
{
    return PyModuleDef_Init(&moduledef);
}
