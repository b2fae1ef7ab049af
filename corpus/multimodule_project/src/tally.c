/* ftmulti._tally: a running total kept in a global with no lock. */
#include "ftmulti_common.h"
#include "minilib.h"

static long total;

static PyObject *add(PyObject *self, PyObject *arg) {
  long v = PyLong_AsLong(arg);
  if (v == -1 && PyErr_Occurred())
    return NULL;
  ftmulti_count_call();
  total = minilib_add(total, v);
  return PyLong_FromLong(total);
}

static PyObject *value(PyObject *self, PyObject *unused) {
  return PyLong_FromLong(total);
}

static PyMethodDef methods[] = {
    {"add", add, METH_O, "add(n): add n to the running total"},
    {"value", value, METH_NOARGS, "value(): the running total"},
    {NULL, NULL, 0, NULL}};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tally", NULL, 0,
                                    methods, slots};

PyMODINIT_FUNC PyInit__tally(void) { return PyModuleDef_Init(&module); }
