/* ftmulti._names: pure functions of their arguments. */
#include <Python.h>

static PyObject *shout(PyObject *self, PyObject *arg) {
  if (!PyUnicode_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "shout() needs a str");
    return NULL;
  }
  return PyObject_CallMethod(arg, "upper", NULL);
}

static PyMethodDef methods[] = {
    {"shout", shout, METH_O, "shout(s): s in upper case"},
    {NULL, NULL, 0, NULL}};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_names", NULL, 0,
                                    methods, slots};

PyMODINIT_FUNC PyInit__names(void) { return PyModuleDef_Init(&module); }
