/* Ends the process from its module init, saying why on stderr. */
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>

PyMODINIT_FUNC
PyInit_ftcorpus_init_exit(void)
{
    fprintf(stderr, "ftcorpus_init_exit: no licence key, giving up\n");
    exit(3);
}
