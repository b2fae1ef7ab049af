// FT005: thread-unsafe C library calls.
#include <Python.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PyMutex time_lock;

/* ---- hazards ---- */

static PyObject *
split_first(PyObject *self, PyObject *arg)
{
    char buf[64];
    strncpy(buf, PyUnicode_AsUTF8(arg), sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *tok = strtok(buf, ","); // CHECK-MESSAGES: :17: warning: FT005 in split_first: strtok() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    return PyUnicode_FromString(tok ? tok : "");
}

static PyObject *
year(PyObject *self, PyObject *arg)
{
    time_t t = (time_t)PyLong_AsLong(arg);
    struct tm *tm = localtime(&t); // CHECK-MESSAGES: :21: warning: FT005 in year: localtime() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    return PyLong_FromLong(tm->tm_year + 1900);
}

static PyObject *
user_name(PyObject *self, PyObject *arg)
{
    struct passwd *pw = getpwuid((uid_t)PyLong_AsLong(arg)); // CHECK-MESSAGES: :25: warning: FT005 in user_name: getpwuid() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    return PyUnicode_FromString(pw ? pw->pw_name : "");
}

static PyObject *
error_text(PyObject *self, PyObject *arg)
{
    return PyUnicode_FromString(strerror((int)PyLong_AsLong(arg))); // CHECK-MESSAGES: :33: warning: FT005 in error_text: strerror() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
}

static PyObject *
roll(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(rand()); // CHECK-MESSAGES: :28: warning: FT005 in roll: rand() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
}

/* ---- not hazards ---- */

static PyObject *
split_first_r(PyObject *self, PyObject *arg)
{
    char buf[64], *save = NULL;
    strncpy(buf, PyUnicode_AsUTF8(arg), sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *tok = strtok_r(buf, ",", &save);
    return PyUnicode_FromString(tok ? tok : "");
}

static PyObject *
year_locked(PyObject *self, PyObject *arg)
{
    time_t t = (time_t)PyLong_AsLong(arg);
    long y;
    PyMutex_Lock(&time_lock);
    y = localtime(&t)->tm_year + 1900;
    PyMutex_Unlock(&time_lock);
    return PyLong_FromLong(y);
}

static PyObject *
home(PyObject *self, PyObject *unused)
{
    /* getenv alone: nothing in this file calls setenv or putenv */
    const char *h = getenv("HOME");
    return PyUnicode_FromString(h ? h : "");
}

static PyMethodDef methods[] = {
    {"split_first", split_first, METH_O, NULL},
    {"year", year, METH_O, NULL},
    {"user_name", user_name, METH_O, NULL},
    {"error_text", error_text, METH_O, NULL},
    {"roll", roll, METH_NOARGS, NULL},
    {"split_first_r", split_first_r, METH_O, NULL},
    {"year_locked", year_locked, METH_O, NULL},
    {"home", home, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft005", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit_ft005(void)
{
    return PyModuleDef_Init(&moduledef);
}
