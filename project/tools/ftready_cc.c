/* ftready-cc: the compiler wrapper ftready puts in CC/CXX/LDSHARED while a
 * project's own build runs. It appends one JSON line per invocation
 * ({"directory": cwd, "arguments": [compiler, args...]}) to the file named by
 * FTREADY_CC_LOG once the real compiler has run, with its exit status
 * ("exit"): a source whose compile failed is one the build skipped. One
 * write(2) with O_APPEND per record keeps records of parallel compilers
 * whole.
 *
 *   CC="ftready-cc clang-16" FTREADY_CC_LOG=/tmp/cc.jsonl python setup.py ...
 *
 * Called through a link named ftready-cc-COMPILER, the compiler is in the
 * name, so CC is one word: distutils replaces the first word of the linker
 * with the C++ compiler when it links C++, and would drop a second one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

/* The real compiler and its arguments: from the link name, or argv[1]. */
static char **compilerArgv(int argc, char **argv, char **named) {
  const char *base = strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  static const char prefix[] = "ftready-cc-";
  if (strncmp(base, prefix, sizeof prefix - 1) == 0 &&
      base[sizeof prefix - 1]) {
    *named = (char *)base + sizeof prefix - 1;
    argv[0] = *named;
    return argv;
  }
  (void)argc;
  *named = NULL;
  return argv + 1;
}

static void record(int argc, char **argv, int status) {
  const char *path = getenv("FTREADY_CC_LOG");
  if (!path || !*path)
    return;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd))
    return;
  struct buffer b = {0, 0, 0};
  int ok = put(&b, "{\"directory\":", 13) && putString(&b, cwd) &&
           put(&b, ",\"arguments\":[", 14);
  for (int i = 0; ok && i < argc; ++i)
    ok = (i == 0 || put(&b, ",", 1)) && putString(&b, argv[i]);
  char tail[32];
  int n = snprintf(tail, sizeof tail, "],\"exit\":%d}\n", status);
  ok = ok && n > 0 && put(&b, tail, (size_t)n);
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
  char *named = NULL;
  char **cc = compilerArgv(argc, argv, &named);
  int ccArgc = named ? argc : argc - 1;
  if (ccArgc < 1 || !cc[0]) {
    fprintf(stderr, "ftready-cc: usage: ftready-cc COMPILER [ARGS...], or "
                    "call it through a link named ftready-cc-COMPILER\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "ftready-cc: cannot fork: %s\n", strerror(errno));
    return 127;
  }
  if (pid == 0) {
    execvp(cc[0], cc);
    fprintf(stderr, "ftready-cc: cannot run '%s': %s\n", cc[0],
            strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  record(ccArgc, cc, code);
  return code;
}
