/* The C side of the call-overhead benchmark: the same cheap calls the C# benchmark makes through Syscalls.Bindings,
 * timed in a plain loop. Prints one line per call:
 *
 *   <name> <median ns/call> <min ns/call> <max ns/call> <runs> <iterations per run>
 *
 * clock_gettime(CLOCK_MONOTONIC) is answered by the vDSO (no kernel entry) when the clocksource allows it;
 * syscall(SYS_clock_gettime) is the same query forced through the kernel, printed so that a reader can tell
 * whether the vDSO was in use. getppid() always enters the kernel.
 *
 *   usage: loop [iterations per run (default 2000000)] [runs (default 9)]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long sink; /* keeps every result observable, so no call can be dropped */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void call_clock_gettime(long n)
{
    struct timespec ts;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        acc += ts.tv_nsec;
    }
    sink = acc;
}

static void call_clock_gettime_syscall(long n)
{
    struct timespec ts;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
        acc += ts.tv_nsec;
    }
    sink = acc;
}

static void call_getppid(long n)
{
    long acc = 0;
    for (long i = 0; i < n; i++) {
        acc += getppid();
    }
    sink = acc;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const char *name, void (*body)(long), long n, int runs)
{
    double per_call[64];
    body(n / 10 + 1); /* warm-up: page in, settle the frequency */
    for (int r = 0; r < runs; r++) {
        double start = now_ns();
        body(n);
        per_call[r] = (now_ns() - start) / (double)n;
    }
    qsort(per_call, (size_t)runs, sizeof per_call[0], compare);
    double median = runs % 2 ? per_call[runs / 2] : (per_call[runs / 2 - 1] + per_call[runs / 2]) / 2;
    printf("%s %.3f %.3f %.3f %d %ld\n", name, median, per_call[0], per_call[runs - 1], runs, n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int runs = argc > 2 ? atoi(argv[2]) : 9;
    if (n <= 0 || runs <= 0 || runs > 64) {
        fprintf(stderr, "usage: %s [iterations per run > 0] [runs 1..64]\n", argv[0]);
        return 2;
    }
    measure("clock_gettime", call_clock_gettime, n, runs);
    /* The kernel round trip is ~100x slower: fewer iterations give the same confidence in the same time. */
    measure("clock_gettime_syscall", call_clock_gettime_syscall, n / 10 + 1, runs);
    measure("getppid", call_getppid, n / 10 + 1, runs);
    return 0;
}
