/* Waits forever in its module init, as on a resource that never comes. */
#include <Python.h>
#include <unistd.h>

PyMODINIT_FUNC
PyInit_ftcorpus_init_hang(void)
{
    for (;;)
        sleep(1);
    return NULL;
}
