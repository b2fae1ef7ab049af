#ifndef MINILIB_H
#define MINILIB_H
long minilib_add(long a, long b);
#endif
