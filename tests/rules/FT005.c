// FT005: thread-unsafe C library calls.
#include <Python.h>
#include <mntent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utmp.h>
#include <wchar.h>

static PyMutex time_lock;

/* ---- hazards ---- */

static PyObject *
split_first(PyObject *self, PyObject *arg)
{
    char buf[64];
    strncpy(buf, PyUnicode_AsUTF8(arg), sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *tok = strtok(buf, ","); // CHECK-MESSAGES: :17: warning: FT005 in split_first: strtok() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    // CHECK-EVIDENCE: glibc: MT-Unsafe race:strtok (glibc manual, Finding Tokens in a String; man-pages 6.03 strtok(3) ATTRIBUTES; POSIX.1-2017 XSH 2.9.1 (pthreads(7)))
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
    return PyLong_FromLong(rand()); // CHECK-MESSAGES: :28: note: FT005 in roll: rand() need not be thread-safe (POSIX): glibc's is, but on other C libraries it can use process-wide state, and without the GIL two threads can call it at once
}

static PyObject *
first_mount(PyObject *self, PyObject *unused)
{
    FILE *f = setmntent("/proc/mounts", "r"); /* MT-Safe in glibc */
    struct mntent *m = f ? getmntent(f) : NULL; // CHECK-MESSAGES: :28: warning: FT005 in first_mount: getmntent() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    PyObject *r = PyUnicode_FromString(m ? m->mnt_dir : "");
    if (f)
        endmntent(f);
    return r;
}

static PyObject *
logged_in(PyObject *self, PyObject *unused)
{
    long n = 0;
    setutent(); // CHECK-MESSAGES: :5: warning: FT005 in logged_in: setutent() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    while (getutent() != NULL) // CHECK-MESSAGES: :12: warning: FT005 in logged_in: getutent() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
        n++;
    endutent(); // CHECK-MESSAGES: :5: warning: FT005 in logged_in: endutent() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    return PyLong_FromLong(n);
}

static PyObject *
temp_name(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(tmpnam(NULL)); // CHECK-MESSAGES: :33: warning: FT005 in temp_name: tmpnam() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
}

static PyObject *
first_wide(PyObject *self, PyObject *arg)
{
    wchar_t wc = 0;
    const char *s = PyUnicode_AsUTF8(arg);
    mbrtowc(&wc, s, strlen(s), NULL); // CHECK-MESSAGES: :5: warning: FT005 in first_wide: mbrtowc() is not thread-safe: it uses process-wide state, and without the GIL two threads can call it at once
    return PyLong_FromLong((long)wc);
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
temp_name_buffer(PyObject *self, PyObject *unused)
{
    char buf[L_tmpnam]; /* tmpnam races only on its own buffer (NULL) */
    return PyUnicode_FromString(tmpnam(buf));
}

static PyObject *
first_wide_with_state(PyObject *self, PyObject *arg)
{
    wchar_t wc = 0;
    mbstate_t state;
    const char *s = PyUnicode_AsUTF8(arg);
    memset(&state, 0, sizeof state);
    mbrtowc(&wc, s, strlen(s), &state);
    return PyLong_FromLong((long)wc);
}

static PyObject *
reseed(PyObject *self, PyObject *arg)
{
    /* MT-Safe in glibc, and not on POSIX's list */
    srand((unsigned)PyLong_AsLong(arg));
    srandom((unsigned)PyLong_AsLong(arg));
    return PyLong_FromLong(random());
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
    {"first_mount", first_mount, METH_NOARGS, NULL},
    {"logged_in", logged_in, METH_NOARGS, NULL},
    {"temp_name", temp_name, METH_NOARGS, NULL},
    {"first_wide", first_wide, METH_O, NULL},
    {"temp_name_buffer", temp_name_buffer, METH_NOARGS, NULL},
    {"first_wide_with_state", first_wide_with_state, METH_O, NULL},
    {"reseed", reseed, METH_O, NULL},
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
