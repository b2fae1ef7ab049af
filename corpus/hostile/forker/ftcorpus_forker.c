/* Forks on every call; the child waits forever, the parent gives it 0.3 s to
 * start. From many threads at once this is FTR006, and none of the children
 * may outlive the run (nor a harness killed with SIGKILL). */
#include "../hostile_common.h"
#include <unistd.h>

static PyObject *
fork_child(PyObject *module, PyObject *unused)
{
    pid_t pid = fork();
    if (pid == 0)
        for (;;)
            pause();
    usleep(300000);
    return PyLong_FromLong((long)pid);
}

static PyMethodDef methods[] = {
    {"fork_child", fork_child, METH_NOARGS, NULL},
    {"tally", tally, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

HOSTILE_MODULE(ftcorpus_forker, methods)
