/* ftready-cc: the compiler wrapper ftready puts in CC/CXX/LDSHARED while a
 * project's own build runs. It appends one JSON line per invocation
 * ({"directory": cwd, "arguments": [compiler, args...]}) to the file named by
 * FTREADY_CC_LOG, then becomes the real compiler (argv[1]). One write(2)
 * with O_APPEND per record keeps records of parallel compilers whole.
 *
 *   CC="ftready-cc clang-16" FTREADY_CC_LOG=/tmp/cc.jsonl python setup.py ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct buffer {
  char *data;
  size_t len, cap;
};

static int reserve(struct buffer *b, size_t more) {
  if (b->len + more <= b->cap)
    return 1;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p)
    return 0;
  b->data = p;
  b->cap = cap;
  return 1;
}

static int put(struct buffer *b, const char *s, size_t n) {
  if (!reserve(b, n))
    return 0;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 1;
}

static int putString(struct buffer *b, const char *s) {
  if (!put(b, "\"", 1))
    return 0;
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      if (!put(b, esc, 2))
        return 0;
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      if (!put(b, esc, 6))
        return 0;
    } else if (!put(b, (const char *)&c, 1)) {
      return 0;
    }
  }
  return put(b, "\"", 1);
}

static void record(int argc, char **argv) {
  const char *path = getenv("FTREADY_CC_LOG");
  if (!path || !*path)
    return;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd))
    return;
  struct buffer b = {0, 0, 0};
  int ok = put(&b, "{\"directory\":", 13) && putString(&b, cwd) &&
           put(&b, ",\"arguments\":[", 14);
  for (int i = 1; ok && i < argc; ++i)
    ok = (i == 1 || put(&b, ",", 1)) && putString(&b, argv[i]);
  ok = ok && put(&b, "]}\n", 3);
  if (ok) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ssize_t w = write(fd, b.data, b.len);
      (void)w;
      close(fd);
    }
  }
  free(b.data);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "ftready-cc: usage: ftready-cc COMPILER [ARGS...]\n");
    return 2;
  }
  record(argc, argv);
  execvp(argv[1], argv + 1);
  fprintf(stderr, "ftready-cc: cannot run '%s': %s\n", argv[1],
          strerror(errno));
  return 127;
}
