/* A bundled library with a hazard of its own: reported apart (vendored). */
#include "minilib.h"
#include <stdlib.h>
#include <time.h>

long minilib_add(long a, long b) {
  static char stamp[64];
  time_t now = time(NULL);
  /* localtime is MT-Unsafe: FT005, but in vendored code. */
  struct tm *t = localtime(&now);
  if (t)
    strftime(stamp, sizeof stamp, "%H:%M:%S", t);
  return a + b;
}
