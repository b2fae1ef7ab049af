/* Closes file descriptors 0, 1 and 2 on its first call, as a daemonising
 * helper would. The harness's events do not travel on them: tally's race is
 * still found. */
#include "../hostile_common.h"
#include <unistd.h>

static PyObject *
close_stdio(PyObject *module, PyObject *unused)
{
    close(0);
    close(1);
    close(2);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"close_stdio", close_stdio, METH_NOARGS, NULL},
    {"tally", tally, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

HOSTILE_MODULE(ftcorpus_close_stdio, methods)
