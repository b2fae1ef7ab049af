#include <Python.h>
#include <ftready_corpus_absent_dep.h>

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ftneeds", NULL, 0,
                                    NULL};

PyMODINIT_FUNC PyInit_ftneeds(void) { return PyModule_Create(&module); }
