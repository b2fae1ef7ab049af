// FT007 and a new object carried in a struct on the stack: regex's compile
// keeps the pattern it is building in a field of a local struct and hands
// the struct's address to helpers. The object stays private to the call. A
// struct whose field is handed on somewhere (kept in a module global) does
// not.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t width;
    Py_ssize_t nodes;
} Pattern;

typedef struct {
    Pattern *pattern;
    int depth;
} Args;

typedef struct {
    Pattern *pattern;
} Leaky;

static PyTypeObject PatternType;
static Pattern *last_seen; /* a module-level cache */

/* ---- not hazards: the pattern is still being built ---- */

static void
add_node(Args *args)
{
    args->pattern->nodes++;
    args->depth++;
}

static int
build(Pattern *pattern)
{
    Args args;
    args.pattern = pattern;
    args.depth = 0;
    add_node(&args);
    add_node(&args);
    pattern->width += args.depth;
    return 0;
}

static PyObject *
Pattern_compile(Pattern *self, PyObject *unused)
{
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    p->width = 0;
    p->nodes = 0;
    build(p);
    return (PyObject *)p;
}

/* ---- hazards: the field is kept where other threads read it ---- */

static void
remember(Leaky *l)
{
    last_seen = l->pattern;
}

static int
build_leaky(Pattern *pattern)
{
    Leaky l;
    l.pattern = pattern;
    remember(&l);
    pattern->width++; // CHECK-MESSAGES: :5: warning: FT007 in build_leaky: 'build_leaky' reads then writes pattern->width with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
    return 0;
}

static PyObject *
Pattern_compile_leaky(Pattern *self, PyObject *unused)
{
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    p->width = 0;
    p->nodes = 0;
    build_leaky(p);
    return (PyObject *)p;
}

static PyMethodDef Pattern_methods[] = {
    {"compile", (PyCFunction)Pattern_compile, METH_NOARGS, NULL},
    {"compile_leaky", (PyCFunction)Pattern_compile_leaky, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PatternType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_carried.Pattern",
    .tp_basicsize = sizeof(Pattern),
    .tp_methods = Pattern_methods,
};
