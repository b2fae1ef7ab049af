// FT007 and helpers that fill a new object: a helper whose every caller
// hands it an object just made (by the type's allocator, or by a function of
// this file that returns only new objects, or by calling a type) and not yet
// shared is quiet; the same helper reached with a shared object, or with an
// object its maker has already published, is not.
#include <Python.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    Py_ssize_t shift;
} Vec;

static PyTypeObject VecType;
static Vec *last_made; /* a module-level cache */

static Vec *
new_vec(Py_ssize_t count)
{
    Vec *v = PyObject_New(Vec, &VecType);
    if (v == NULL)
        return NULL;
    v->count = count;
    v->shift = 5;
    return v;
}

static Vec *
copy_vec(Vec *original)
{
    Vec *v = new_vec(original->count);
    if (v != NULL)
        v->shift = original->shift;
    return v;
}

/* ---- not hazards: every caller gives a new, unshared object ---- */

static void
append_one(Vec *v)
{
    if (v->count >= (1 << v->shift))
        v->shift += 5;
    v->count++;
}

static PyObject *
Vec_append(Vec *self, PyObject *unused)
{
    Vec *v = copy_vec(self);
    if (v == NULL)
        return NULL;
    append_one(v);
    append_one(v);
    return (PyObject *)v;
}

static PyObject *
Vec_fresh(Vec *self, PyObject *unused)
{
    Vec *v = new_vec(0);
    if (v == NULL)
        return NULL;
    append_one(v);
    return (PyObject *)v;
}

/* ---- hazards ---- */

static void
bump(Vec *v)
{
    v->count++; // CHECK-MESSAGES: :5: warning: FT007 in bump: 'bump' reads then writes v->count with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_bump (line 90), which passes 'self'
}

static PyObject *
Vec_bump_copy(Vec *self, PyObject *unused)
{
    Vec *v = copy_vec(self);
    if (v == NULL)
        return NULL;
    bump(v);
    return (PyObject *)v;
}

static PyObject *
Vec_bump(Vec *self, PyObject *unused)
{
    bump(self); /* the shared object itself: bump is not private */
    Py_RETURN_NONE;
}

static Vec *
make_and_remember(void)
{
    Vec *v = new_vec(0);
    last_made = v; /* published before it is returned */
    return v;
}

static void
grow(Vec *v)
{
    v->shift += 5; // CHECK-MESSAGES: :5: warning: FT007 in grow: 'grow' reads then writes v->shift with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_remembered (line 115), which passes 'v'
}

static PyObject *
Vec_remembered(Vec *self, PyObject *unused)
{
    Vec *v = make_and_remember();
    if (v == NULL)
        return NULL;
    grow(v);
    return (PyObject *)v;
}

/* ---- calling a type makes a new instance (a subclass's copy) ---- */

static Vec *
clone_vec(Vec *original)
{
    PyObject *made = PyObject_CallNoArgs((PyObject *)Py_TYPE(original));
    if (made != NULL && !PyObject_TypeCheck(made, &VecType)) {
        Py_DECREF(made);
        return NULL;
    }
    return (Vec *)made;
}

static void
widen(Vec *v)
{
    v->shift++;
}

static PyObject *
Vec_clone_wider(Vec *self, PyObject *unused)
{
    Vec *v = clone_vec(self);
    if (v == NULL)
        return NULL;
    widen(v);
    return (PyObject *)v;
}

/* ---- but calling anything else can hand back a shared object ---- */

static PyObject *vec_factory; /* a callable the user registered */

static Vec *
vec_from_factory(void)
{
    PyObject *made = PyObject_CallNoArgs(vec_factory);
    if (made != NULL && !PyObject_TypeCheck(made, &VecType)) {
        Py_DECREF(made);
        return NULL;
    }
    return (Vec *)made;
}

static void
narrow(Vec *v)
{
    v->shift--; // CHECK-MESSAGES: :5: warning: FT007 in narrow: 'narrow' reads then writes v->shift with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_factory_narrower (line 176), which passes 'v'
}

static PyObject *
Vec_factory_narrower(Vec *self, PyObject *unused)
{
    Vec *v = vec_from_factory();
    if (v == NULL)
        return NULL;
    narrow(v);
    return (PyObject *)v;
}

/* ---- helpers that call each other, or return the object they fill ---- */

static PyObject *vec_fill(Vec *v, Py_ssize_t n);
static PyObject *ten; /* the int 10, made in module exec */

/* also the method fill(n), as CPython's deque_extend is for extend() */
static PyObject *
vec_fill_locked(Vec *v, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(v);
    r = vec_fill(v, n);
    Py_END_CRITICAL_SECTION();
    return r;
}

static PyObject *
vec_fill(Vec *v, Py_ssize_t n)
{
    if (n > 100)
        return vec_fill_locked(v, ten); /* a cycle hands nothing on */
    v->count += n;
    Py_RETURN_NONE;
}

static PyObject *
vec_repeat(Vec *v, Py_ssize_t n)
{
    if (n == 1)
        return Py_NewRef(v); /* another path than the write's */
    v->shift += n;
    return Py_NewRef(v); /* back to the caller once the call is over */
}

static PyObject *
Vec_filled(Vec *self, PyObject *unused)
{
    Vec *v = clone_vec(self);
    if (v == NULL)
        return NULL;
    PyObject *r = vec_fill(v, 3);
    Py_XDECREF(r);
    r = vec_repeat(v, 2);
    Py_DECREF(v);
    return r;
}

/* ---- what a helper hands back is still the object ---- */

static Vec *
vec_same(Vec *v)
{
    return v;
}

static void
shrink(Vec *v)
{
    v->count--; // CHECK-MESSAGES: :5: warning: FT007 in shrink: 'shrink' reads then writes v->count with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_kept_aside (line 250), which passes 'v'
}

static PyObject *
Vec_kept_aside(Vec *self, PyObject *unused)
{
    Vec *v = new_vec(0);
    if (v == NULL)
        return NULL;
    last_made = vec_same(v); /* published through what the helper returns */
    shrink(v);
    return (PyObject *)v;
}

/* ---- Py_TYPE of any object: its call can return a shared one ---- */

static Vec *
clone_any(PyObject *original)
{
    /* type(x)(x) is x itself for a tuple or a str */
    PyObject *made =
        PyObject_CallOneArg((PyObject *)Py_TYPE(original), original);
    if (made != NULL && !PyObject_TypeCheck(made, &VecType)) {
        Py_DECREF(made);
        return NULL;
    }
    return (Vec *)made;
}

static void
thin(Vec *v)
{
    v->shift -= 2; // CHECK-MESSAGES: :5: warning: FT007 in thin: 'thin' reads then writes v->shift with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_clone_any_thinner (line 282), which passes 'v'
}

static PyObject *
Vec_clone_any_thinner(Vec *self, PyObject *arg)
{
    Vec *v = clone_any(arg);
    if (v == NULL)
        return NULL;
    thin(v);
    return (PyObject *)v;
}

/* ---- a cycle whose value is the object, stored away ---- */

static PyObject *registry;

static Vec *
settle(Vec *v, int n)
{
    if (n == 0)
        return v;
    registry = (PyObject *)settle(v, n - 1); /* v itself */
    return NULL;
}

static void
tick(Vec *v)
{
    v->count++; // CHECK-MESSAGES: :5: warning: FT007 in tick: 'tick' reads then writes v->count with no critical section on 'v': two threads sharing the object can interleave and corrupt it
    // CHECK-EVIDENCE: reached with no lock from Vec_settled (line 313), which passes 'v'
}

static PyObject *
Vec_settled(Vec *self, PyObject *unused)
{
    Vec *v = new_vec(0);
    if (v == NULL)
        return NULL;
    settle(v, 1);
    tick(v);
    return (PyObject *)v;
}

static PyMethodDef Vec_methods[] = {
    {"append", (PyCFunction)Vec_append, METH_NOARGS, NULL},
    {"fresh", (PyCFunction)Vec_fresh, METH_NOARGS, NULL},
    {"bump_copy", (PyCFunction)Vec_bump_copy, METH_NOARGS, NULL},
    {"bump", (PyCFunction)Vec_bump, METH_NOARGS, NULL},
    {"remembered", (PyCFunction)Vec_remembered, METH_NOARGS, NULL},
    {"clone_wider", (PyCFunction)Vec_clone_wider, METH_NOARGS, NULL},
    {"factory_narrower", (PyCFunction)Vec_factory_narrower, METH_NOARGS, NULL},
    {"filled", (PyCFunction)Vec_filled, METH_NOARGS, NULL},
    {"fill", (PyCFunction)vec_fill_locked, METH_O, NULL},
    {"kept_aside", (PyCFunction)Vec_kept_aside, METH_NOARGS, NULL},
    {"clone_any_thinner", (PyCFunction)Vec_clone_any_thinner, METH_O, NULL},
    {"settled", (PyCFunction)Vec_settled, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject VecType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ft007_fresh.Vec",
    .tp_basicsize = sizeof(Vec),
    .tp_methods = Vec_methods,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "ft007_fresh", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC
PyInit_ft007_fresh(void)
{
    return PyModuleDef_Init(&moduledef);
}
