/* Keeps 8 MiB more on every call and never frees it: memory grows without
 * bound under the stress run. The RSS watchdog stops it (FTR007), and the
 * run goes on to find tally's race. */
#include "../hostile_common.h"
#include <stdlib.h>
#include <string.h>

/* Every block ever allocated, chained through its first word: kept
 * reachable, so that no compiler can drop the allocation. */
static void *kept;

static PyObject *
grow(PyObject *module, PyObject *unused)
{
    size_t size = 8u << 20;
    char *block = malloc(size);
    if (block == NULL)
        return PyErr_NoMemory();
    memset(block, 1, size); /* resident, not just reserved */
    void *previous = __atomic_exchange_n(&kept, block, __ATOMIC_SEQ_CST);
    memcpy(block, &previous, sizeof previous);
    Py_RETURN_NONE; /* never freed, on purpose */
}

static PyMethodDef methods[] = {
    {"grow", grow, METH_NOARGS, NULL},
    {"tally", tally, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

HOSTILE_MODULE(ftcorpus_grower, methods)
