/* Dereferences NULL in its module init: the import is the target. */
#include <Python.h>

PyMODINIT_FUNC
PyInit_ftcorpus_init_crash(void)
{
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return NULL;
}
