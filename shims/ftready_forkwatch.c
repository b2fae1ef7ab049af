/* ftready's fork watcher: loaded by the stress driver (ctypes) into the
 * process under test. Every fork() the process makes is said on the
 * harness's event channel, with the number of threads the process had: a
 * fork while other threads run copies their locks in whatever state they
 * were, a hazard of its own without the GIL. posix_spawn and vfork-style
 * spawning do not run fork handlers, and are not reported.
 *
 * Plain C, no allocation in the handler beyond the stack.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int event_fd = -1;
static int channel_fd = -1; /* the driver's event descriptor */

static int thread_count(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *t = strstr(buf, "\nThreads:");
    int threads = -1;
    if (t)
        sscanf(t + 9, "%d", &threads);
    return threads;
}

static void before_fork(void)
{
    if (event_fd < 0)
        return;
    char line[128];
    int n = snprintf(line, sizeof line,
                     "{\"event\": \"fork\", \"pid\": %d, \"threads\": %d}\n",
                     (int)getpid(), thread_count());
    if (n > 0 && write(event_fd, line, (size_t)n) < 0)
        event_fd = -1; /* the channel is gone: stop saying */
}

static void in_child(void)
{
    event_fd = -1; /* the child's own forks are its parent's story */
    /* A forked child that returns into the driver must not speak on the
     * parent's channel: its next event fails, and the driver exits. */
    if (channel_fd >= 0)
        close(channel_fd);
    /* Dies with the thread that forked it: even a harness killed with
     * SIGKILL leaves no forked child behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Called once by the driver with its event descriptor. */
int ftready_forkwatch_start(int fd)
{
    event_fd = fd;
    channel_fd = fd;
    return pthread_atfork(before_fork, NULL, in_child);
}
