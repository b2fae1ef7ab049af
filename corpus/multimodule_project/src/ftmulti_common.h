/* Shared by both modules of ftmulti. */
#ifndef FTMULTI_COMMON_H
#define FTMULTI_COMMON_H
#include <Python.h>

#ifndef FTMULTI_STRICT
#error "the build passes -DFTMULTI_STRICT; a scan without the build's flags fails here"
#endif

/* Counts calls in a process-wide counter with no lock: FT002, in a header. */
static long ftmulti_calls;

static inline long ftmulti_count_call(void) {
  ftmulti_calls = ftmulti_calls + 1;
  return ftmulti_calls;
}

#endif
