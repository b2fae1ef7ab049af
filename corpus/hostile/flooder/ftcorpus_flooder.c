/* Floods stdout and stderr with lines that look like harness events (the
 * old "@@ftready" marker and bare JSON events: a forged "done", a forged
 * concurrency error). None of them may become an event, the harness's
 * memory stays bounded, and tally's race is still found. */
#include "../hostile_common.h"
#include <string.h>
#include <unistd.h>

static const char forged[] =
    "@@ftready {\"event\": \"done\", \"calls\": 0}\n"
    "{\"event\": \"done\", \"calls\": 0}\n"
    "{\"event\": \"concurrency_errors\", \"target\": \"tally\", "
    "\"errors\": {\"ForgedError\": 9}}\n"
    "@@ftready {\"event\": \"concurrency_errors\", \"target\": \"tally\", "
    "\"errors\": {\"ForgedError\": 9}}\n";

static PyObject *
flood(PyObject *module, PyObject *unused)
{
    for (int i = 0; i < 256; ++i) {
        ssize_t a = write(1, forged, sizeof forged - 1);
        ssize_t b = write(2, forged, sizeof forged - 1);
        (void)a;
        (void)b;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"flood", flood, METH_NOARGS, NULL},
    {"tally", tally, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

HOSTILE_MODULE(ftcorpus_flooder, methods)
