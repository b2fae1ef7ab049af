#include <Python.h>

static PyObject *twice(PyObject *self, PyObject *arg) {
  return PyNumber_Add(arg, arg);
}

static PyMethodDef methods[] = {{"twice", twice, METH_O, NULL},
                                {NULL, NULL, 0, NULL}};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED},
                                   {0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ftopt_plain", NULL,
                                    0, methods, slots};

PyMODINIT_FUNC PyInit_ftopt_plain(void) { return PyModuleDef_Init(&module); }
