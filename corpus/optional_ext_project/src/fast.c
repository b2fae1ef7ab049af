/* Uses an API CPython 3.13 removed, as real extensions still do. */
#include <Python.h>

static PyObject *extend(PyObject *self, PyObject *args) {
  PyObject *list, *items;
  if (!PyArg_ParseTuple(args, "OO", &list, &items))
    return NULL;
  return _PyList_Extend((PyListObject *)list, items);
}

static PyMethodDef methods[] = {{"extend", extend, METH_VARARGS, NULL},
                                {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ftopt_fast", NULL,
                                    0, methods};

PyMODINIT_FUNC PyInit_ftopt_fast(void) { return PyModule_Create(&module); }
