// FT002: mutable global and static state written outside initialisation.
#include <Python.h>
#include <stdatomic.h>
#include <stdio.h>

static long call_count;
static PyObject *interned_name = NULL;
static char scratch[64];
static int verbose;
static struct { int hits; int misses; } stats;

/* ---- hazards ---- */

static PyObject *
count_call(PyObject *self, PyObject *unused)
{
    call_count++; // CHECK-MESSAGES: :5: warning: FT002 in count_call: global 'call_count' is written in 'count_call' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    call_count += 2;
    return PyLong_FromLong(call_count);
}

static PyObject *
get_name(PyObject *self, PyObject *unused)
{
    if (interned_name == NULL) {
        interned_name = PyUnicode_InternFromString("name"); // CHECK-MESSAGES: :9: warning: FT002 in get_name: global 'interned_name' is written in 'get_name' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    }
    return Py_NewRef(interned_name);
}

static PyObject *
format_value(PyObject *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    snprintf(scratch, sizeof scratch, "%ld", v); // CHECK-MESSAGES: :5: warning: FT002 in format_value: global 'scratch' is written in 'format_value' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    return PyUnicode_FromString(scratch);
}

static PyObject *
set_verbose(PyObject *self, PyObject *args)
{
    if (!PyArg_ParseTuple(args, "i", &verbose)) // CHECK-MESSAGES: :10: warning: FT002 in set_verbose: global 'verbose' is written in 'set_verbose' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
record_hit(PyObject *self, PyObject *unused)
{
    stats.hits++; // CHECK-MESSAGES: :5: warning: FT002 in record_hit: global 'stats' is written in 'record_hit' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
    Py_RETURN_NONE;
}

static PyObject *
next_id(PyObject *self, PyObject *unused)
{
    static int counter = 0;
    return PyLong_FromLong(++counter); // CHECK-MESSAGES: :28: warning: FT002 in next_id: function-local static 'counter' is written in 'next_id' outside module initialisation without a lock, atomic or thread-local: concurrent calls race on it
}

/* ---- not hazards ---- */

static const char *const names[] = {"a", "b", NULL};
static _Atomic long atomic_calls;
static _Thread_local char tls_buffer[32];
static PyMutex lock;
static long guarded_count;
static PyObject *module_constant;
static long py_atomic_count;

static PyObject *
read_only(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(names[0]);
}

static PyObject *
atomic_count(PyObject *self, PyObject *unused)
{
    atomic_calls++;
    atomic_fetch_add(&atomic_calls, 1);
    _Py_atomic_add_ssize((Py_ssize_t *)&py_atomic_count, 1);
    return PyLong_FromLong(atomic_calls);
}

static PyObject *
thread_local_buffer(PyObject *self, PyObject *arg)
{
    snprintf(tls_buffer, sizeof tls_buffer, "%d", 1);
    return PyUnicode_FromString(tls_buffer);
}

static PyObject *
mutex_count(PyObject *self, PyObject *unused)
{
    PyMutex_Lock(&lock);
    guarded_count++;
    PyMutex_Unlock(&lock);
    return PyLong_FromLong(guarded_count);
}

static PyObject *
local_buffer(PyObject *self, PyObject *unused)
{
    char buf[16];
    int n = 0;
    n++;
    snprintf(buf, sizeof buf, "%d", n);
    return PyUnicode_FromString(buf);
}

static int
init_helper(void)
{
    module_constant = PyUnicode_FromString("constant");
    return module_constant ? 0 : -1;
}

static int
module_exec(PyObject *m)
{
    call_count = 0;
    return init_helper();
}

static PyMethodDef methods[] = {
    {"count_call", count_call, METH_NOARGS, NULL},
    {"get_name", get_name, METH_NOARGS, NULL},
    {"format_value", format_value, METH_O, NULL},
    {"set_verbose", set_verbose, METH_VARARGS, NULL},
    {"record_hit", record_hit, METH_NOARGS, NULL},
    {"next_id", next_id, METH_NOARGS, NULL},
    {"read_only", read_only, METH_NOARGS, NULL},
    {"atomic_count", atomic_count, METH_NOARGS, NULL},
    {"thread_local_buffer", thread_local_buffer, METH_O, NULL},
    {"mutex_count", mutex_count, METH_NOARGS, NULL},
    {"local_buffer", local_buffer, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft002", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft002(void)
{
    return PyModuleDef_Init(&moduledef);
}
