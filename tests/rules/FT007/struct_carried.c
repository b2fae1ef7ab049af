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

/* ---- not hazards: a recursive descent hands copies of the struct down
 * (regex's build_* helpers: `subargs = *args; build_sequence(&subargs)`),
 * and a helper gets the pattern out of the struct's field ---- */

typedef struct {
    Pattern *pattern;
    const char *code;
    int depth;
} Compile;

static int build_sequence(Compile *args);

static void
new_node(Pattern *pattern)
{
    pattern->nodes++;
}

static int
build_group(Compile *args)
{
    Compile sub;
    new_node(args->pattern);
    sub = *args;
    sub.depth++;
    if (build_sequence(&sub) < 0)
        return -1;
    args->code = sub.code;
    new_node(sub.pattern);
    return 0;
}

static int
build_sequence(Compile *args)
{
    while (*args->code == '(') {
        args->code++;
        if (build_group(args) < 0)
            return -1;
    }
    new_node(args->pattern);
    return 0;
}

static int
compile_code(Pattern *pattern, const char *code)
{
    Compile args;
    args.pattern = pattern;
    args.code = code;
    args.depth = 0;
    if (build_sequence(&args) < 0)
        return -1;
    pattern->width += args.depth;
    return 0;
}

static PyObject *
Pattern_compile_code(Pattern *self, PyObject *arg)
{
    const char *code = PyUnicode_AsUTF8(arg);
    if (code == NULL)
        return NULL;
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    p->width = 0;
    p->nodes = 0;
    if (compile_code(p, code) < 0) {
        Py_DECREF(p);
        return NULL;
    }
    return (PyObject *)p;
}

/* ---- hazards: the same descent over the method's own object, and over a
 * struct copied from one kept at module level ---- */

typedef struct {
    Pattern *pattern;
    const char *code;
} Grow;

static int grow_sequence(Grow *args);

static void
grow_node(Pattern *pattern)
{
    pattern->nodes++; // CHECK-MESSAGES: :5: warning: FT007 in grow_node: 'grow_node' reads then writes pattern->nodes with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
}

static int
grow_group(Grow *args)
{
    Grow sub = *args;
    grow_node(sub.pattern);
    return grow_sequence(&sub);
}

static int
grow_sequence(Grow *args)
{
    while (*args->code == '(') {
        args->code++;
        if (grow_group(args) < 0)
            return -1;
    }
    grow_node(args->pattern);
    return 0;
}

static PyObject *
Pattern_grow(Pattern *self, PyObject *arg)
{
    Grow args;
    args.pattern = self;
    args.code = PyUnicode_AsUTF8(arg);
    if (args.code == NULL || grow_sequence(&args) < 0)
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    Pattern *pattern;
    int depth;
} Resume;

static Resume saved_resume; /* a module-level copy */

static void
resume_node(Pattern *pattern)
{
    pattern->nodes++; // CHECK-MESSAGES: :5: warning: FT007 in resume_node: 'resume_node' reads then writes pattern->nodes with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
}

static void
resume_step(Resume *args)
{
    resume_node(args->pattern);
}

static PyObject *
Pattern_resume(Pattern *self, PyObject *unused)
{
    Resume args = saved_resume;
    resume_step(&args);
    Py_RETURN_NONE;
}

static PyObject *
Pattern_start(Pattern *self, PyObject *unused)
{
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    Resume args;
    args.pattern = p;
    args.depth = 0;
    resume_step(&args);
    return (PyObject *)p;
}

/* A helper overwrites the caller's private struct with a module-level one
 * through its pointer. */
typedef struct {
    Pattern *pattern;
} Reset;

static Reset reset_defaults; /* set from a method's own object */

static void
reset_node(Pattern *pattern)
{
    pattern->nodes++; // CHECK-MESSAGES: :5: warning: FT007 in reset_node: 'reset_node' reads then writes pattern->nodes with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
}

static void
reset_args(Reset *a)
{
    *a = reset_defaults;
}

static void
reset_step(Reset *a)
{
    reset_node(a->pattern);
}

static PyObject *
Pattern_publish(Pattern *self, PyObject *unused)
{
    reset_defaults = (Reset){.pattern = self};
    Py_RETURN_NONE;
}

static PyObject *
Pattern_reset_run(Pattern *self, PyObject *unused)
{
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    Reset args;
    args.pattern = p;
    reset_args(&args);
    reset_step(&args);
    return (PyObject *)p;
}

/* A struct of another type cast to the helper's: its fields are not the
 * helper's fields. */
typedef struct {
    Pattern *pattern;
} Cast;

typedef struct {
    Pattern *target;
} Other;

static void
cast_node(Pattern *pattern)
{
    pattern->nodes++; // CHECK-MESSAGES: :5: warning: FT007 in cast_node: 'cast_node' reads then writes pattern->nodes with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
}

static void
cast_step(Cast *a)
{
    cast_node(a->pattern);
}

static PyObject *
Pattern_cast_run(Pattern *self, PyObject *unused)
{
    Pattern *p = PyObject_New(Pattern, &PatternType);
    if (p == NULL)
        return NULL;
    Cast mine;
    mine.pattern = p;
    cast_step(&mine);
    Other o;
    o.target = self;
    cast_step((Cast *)&o);
    return (PyObject *)p;
}

/* The helper reads the struct under another type's name. */
typedef struct {
    Pattern *pattern;
} Peek;

typedef struct {
    Pattern *target;
} PeekOther;

static void
peek_node(Pattern *pattern)
{
    pattern->nodes++; // CHECK-MESSAGES: :5: warning: FT007 in peek_node: 'peek_node' reads then writes pattern->nodes with no critical section on 'pattern': two threads sharing the object can interleave and corrupt it
}

static void
peek_step(Peek *a)
{
    peek_node(((PeekOther *)a)->target);
}

static PyObject *
Pattern_peek(Pattern *self, PyObject *unused)
{
    PeekOther f;
    f.target = PyObject_New(Pattern, &PatternType);
    Py_XDECREF(f.target);
    Peek c;
    c.pattern = self;
    peek_step(&c);
    Py_RETURN_NONE;
}

static PyMethodDef Pattern_methods[] = {
    {"compile", (PyCFunction)Pattern_compile, METH_NOARGS, NULL},
    {"compile_leaky", (PyCFunction)Pattern_compile_leaky, METH_NOARGS, NULL},
    {"compile_code", (PyCFunction)Pattern_compile_code, METH_O, NULL},
    {"grow", (PyCFunction)Pattern_grow, METH_O, NULL},
    {"resume", (PyCFunction)Pattern_resume, METH_NOARGS, NULL},
    {"start", (PyCFunction)Pattern_start, METH_NOARGS, NULL},
    {"publish", (PyCFunction)Pattern_publish, METH_NOARGS, NULL},
    {"reset_run", (PyCFunction)Pattern_reset_run, METH_NOARGS, NULL},
    {"cast_run", (PyCFunction)Pattern_cast_run, METH_NOARGS, NULL},
    {"peek", (PyCFunction)Pattern_peek, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PatternType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_carried.Pattern",
    .tp_basicsize = sizeof(Pattern),
    .tp_methods = Pattern_methods,
};
