/* A command-line tool of the project, never compiled by its setup.py: not
 * scanned, listed as "not built". It would not parse as an extension unit. */
#include <stdio.h>
#include "not_a_real_header.h"

int main(void) {
  static int n;
  n++;
  printf("%d\n", n);
  return 0;
}
