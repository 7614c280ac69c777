// fault.c - LD_PRELOAD fault injection for the runtime tests.
//
// The bindings reach libc through P/Invoke, which resolves each symbol with dlsym(<libc handle>, name); a plain
// LD_PRELOAD definition of recv() is NOT seen by such a lookup (dlsym on a handle searches that object's dependency
// scope, not the global scope). So this shim interposes dlsym itself and hands out the wrappers below for the names
// it injects into. Only P/Invoke lookups are affected: the .NET runtime's own libc calls (console, GC, threads) go
// through their PLT and stay untouched, so a fault never lands inside the runtime's internals.
//
// Configuration (environment, read once):
//   SYSCALLS_FAULTS="rule,rule,..."   rule = NAME=ACTION[/EVERY][*COUNT][~WINDOW_MS]
//     NAME    recv send accept4 connect socket epoll_wait poll read write sendto recvfrom
//             io_uring_setup io_uring_enter io_uring_register (calls made through syscall(2))
//     ACTION  any errno name of <errno.h> (EINTR EAGAIN EINVAL EMFILE ECONNRESET ...), a positive errno number,
//             SHORT (recv/send/read/write only: transfer at most 3 bytes; a partial read or write), or
//             DELAYms (recv/send/read/write only: sleep ms milliseconds, then make the call with the arguments it was
//             given; widens the moment between a caller reading a descriptor number and the kernel using it)
//   A rule the shim cannot honour (unknown NAME or ACTION, SHORT elsewhere, no '=') ends the process at once with a
//   message on stderr and exit status 2: a typo must never run as "no fault injected".
//     EVERY   inject on every EVERY-th call (default 1)   COUNT  at most COUNT injections (default unlimited)
//     WINDOW  inject only during the first WINDOW ms after the first call of NAME
//   SYSCALLS_FAULTS_HIDE_OPCODE=N      clear IO_URING_OP_SUPPORTED of opcode N in IORING_REGISTER_PROBE results
//   SYSCALLS_FAULTS_NO_CANCEL_FD=1     make io_uring refuse ASYNC_CANCEL keyed by descriptor (IORING_ASYNC_CANCEL_FD,
//                                      ALL, ANY: 5.19) with EINVAL, as kernels before 5.19 do: io_uring_enter marks
//                                      such SQEs with a flag no kernel knows (the rings are found through the
//                                      io_uring_setup and mmap calls made through dlsym)
//   SYSCALLS_FAULTS_REPORT=/path       at exit, write "NAME calls injected" per rule
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#ifndef IORING_ASYNC_CANCEL_FD   /* headers older than 5.19 */
#define IORING_ASYNC_CANCEL_ALL (1U << 0)
#define IORING_ASYNC_CANCEL_FD (1U << 1)
#define IORING_ASYNC_CANCEL_ANY (1U << 2)
#endif
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ACTION_SHORT (-1)
#define ACTION_DELAY (-2)
enum { R_RECV, R_SEND, R_ACCEPT4, R_CONNECT, R_SOCKET, R_EPOLL_WAIT, R_POLL, R_READ, R_WRITE, R_SENDTO, R_RECVFROM,
       R_URING_SETUP, R_URING_ENTER, R_URING_REGISTER, R_EPOLL_CREATE1, R_COUNT };
static const char *names[R_COUNT] = { "recv", "send", "accept4", "connect", "socket", "epoll_wait", "poll", "read",
    "write", "sendto", "recvfrom", "io_uring_setup", "io_uring_enter", "io_uring_register", "epoll_create1" };

typedef struct {
    int active, action, every, delay_ms;
    long max_count, window_ms;
    long calls, injected;      // updated atomically
    long first_ms;             // time of the first call, for WINDOW
} rule_t;

static rule_t rules[R_COUNT];
static int hide_opcode = -1;
static int no_cancel_fd;
static int configured;

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

// Errno names to values, 0 when unknown. The common ones are listed so they work with any libc; glibc 2.32+ adds every
// other name through strerrorname_np (which knows one name per value, hence the aliases in the table).
static int errno_of(const char *s) {
    static const struct { const char *n; int v; } t[] = {
        {"EPERM", EPERM}, {"ENOENT", ENOENT}, {"EINTR", EINTR}, {"EIO", EIO}, {"EBADF", EBADF}, {"EAGAIN", EAGAIN},
        {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EFAULT", EFAULT}, {"EBUSY", EBUSY},
        {"EEXIST", EEXIST}, {"EINVAL", EINVAL}, {"ENFILE", ENFILE}, {"EMFILE", EMFILE}, {"ENOSPC", ENOSPC},
        {"EPIPE", EPIPE}, {"EDEADLOCK", EDEADLOCK}, {"ENOSYS", ENOSYS}, {"ETIME", ETIME}, {"ENOTSOCK", ENOTSOCK},
        {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOTSUP", ENOTSUP}, {"EADDRINUSE", EADDRINUSE}, {"EADDRNOTAVAIL", EADDRNOTAVAIL},
        {"ENETUNREACH", ENETUNREACH}, {"ECONNABORTED", ECONNABORTED}, {"ECONNRESET", ECONNRESET},
        {"ENOBUFS", ENOBUFS}, {"ENOTCONN", ENOTCONN}, {"ETIMEDOUT", ETIMEDOUT}, {"ECONNREFUSED", ECONNREFUSED},
        {"EHOSTUNREACH", EHOSTUNREACH}, {"EALREADY", EALREADY}, {"EINPROGRESS", EINPROGRESS},
        {"ECANCELED", ECANCELED} };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (!strcmp(s, t[i].n)) return t[i].v;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    for (int v = 1; v < 4096; v++) {
        const char *name = strerrorname_np(v);
        if (name && !strcmp(s, name)) return v;
    }
#endif
    return 0;
}

// A rule that cannot be honoured: say which and why, then end the process before anything runs with a wrong fault
// set (_exit: this may run inside the dynamic loader's dlsym, where atexit handlers and stdio buffers are unsafe).
static void bad_rule(const char *rule, const char *why) {
    fprintf(stderr, "fault.c: SYSCALLS_FAULTS rule '%s': %s\n", rule, why);
    fflush(stderr);
    _exit(2);
}

// ACTION: an errno name, a positive number, or SHORT (transfers only); anything else ends the process.
static int action_of(const char *rule, int i, const char *action, int *delay_ms) {
    if (!strcmp(action, "SHORT")) {
        if (i != R_RECV && i != R_SEND && i != R_READ && i != R_WRITE)
            bad_rule(rule, "SHORT applies to recv, send, read and write only");
        return ACTION_SHORT;
    }
    if (!strncmp(action, "DELAY", 5)) {
        if (i != R_RECV && i != R_SEND && i != R_READ && i != R_WRITE)
            bad_rule(rule, "DELAY applies to recv, send, read and write only");
        char *end;
        long v = strtol(action + 5, &end, 10);
        if (end == action + 5 || *end != 0 || v <= 0 || v > 10000) bad_rule(rule, "DELAY needs milliseconds, 1 to 10000");
        *delay_ms = (int)v;
        return ACTION_DELAY;
    }
    if (action[0] >= '1' && action[0] <= '9') {
        char *end;
        long v = strtol(action, &end, 10);
        if (*end == 0 && v > 0 && v < 4096) return (int)v;
        bad_rule(rule, "an errno number must be between 1 and 4095");
    }
    int v = errno_of(action);
    if (v == 0) bad_rule(rule, "unknown errno name (expected e.g. EINVAL, EAGAIN, ECONNRESET, a number, SHORT or DELAYms)");
    return v;
}

static void report(void) {
    const char *path = getenv("SYSCALLS_FAULTS_REPORT");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    for (int i = 0; i < R_COUNT; i++)
        if (rules[i].active) fprintf(f, "%s %ld %ld\n", names[i], rules[i].calls, rules[i].injected);
    fclose(f);
}

static void configure(void) {
    if (__atomic_load_n(&configured, __ATOMIC_ACQUIRE)) return;
    const char *spec = getenv("SYSCALLS_FAULTS");
    const char *hide = getenv("SYSCALLS_FAULTS_HIDE_OPCODE");
    if (hide) hide_opcode = atoi(hide);
    const char *old_cancel = getenv("SYSCALLS_FAULTS_NO_CANCEL_FD");
    if (old_cancel && !strcmp(old_cancel, "1")) no_cancel_fd = 1;
    if (spec) {
        char buf[1024];
        if (strlen(spec) >= sizeof buf) bad_rule(spec, "the rule list is longer than 1023 characters");
        snprintf(buf, sizeof buf, "%s", spec);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char rule[128];
            snprintf(rule, sizeof rule, "%s", tok);   // as written, for messages
            char *eq = strchr(tok, '=');
            if (!eq) bad_rule(rule, "expected NAME=ACTION");
            *eq = 0;
            int i = 0;
            while (i < R_COUNT && strcmp(tok, names[i])) i++;
            if (i == R_COUNT)
                bad_rule(rule, "unknown call name (recv send accept4 connect socket epoll_wait poll read write sendto "
                               "recvfrom io_uring_setup io_uring_enter io_uring_register)");
            rule_t *r = &rules[i];
            char action[32] = {0};
            size_t n = strcspn(eq + 1, "/*~");
            if (n >= sizeof action) bad_rule(rule, "ACTION too long");
            memcpy(action, eq + 1, n);
            r->action = action_of(rule, i, action, &r->delay_ms);
            r->every = 1; r->max_count = -1; r->window_ms = -1; r->first_ms = -1;
            for (char *p = eq + 1 + n; *p; ) {
                char c = *p++;
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || (c != '/' && c != '*' && c != '~')) bad_rule(rule, "expected /EVERY, *COUNT or ~WINDOW_MS");
                p = end;
                if (c == '/') r->every = v > 0 ? (int)v : 1;
                else if (c == '*') r->max_count = v;
                else r->window_ms = v;
            }
            r->active = 1;
        }
    }
    atexit(report);
    __atomic_store_n(&configured, 1, __ATOMIC_RELEASE);
}

// Decides whether this call of rule i fails; returns the action (errno or ACTION_SHORT) or 0.
static int decide(int i) {
    rule_t *r = &rules[i];
    if (!r->active) return 0;
    long call = __atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
    if (r->window_ms >= 0) {
        long t = now_ms(), expected = -1;
        __atomic_compare_exchange_n(&r->first_ms, &expected, t, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        if (t - __atomic_load_n(&r->first_ms, __ATOMIC_RELAXED) > r->window_ms) return 0;
    }
    if (call % r->every != 0) return 0;
    if (r->max_count >= 0 && __atomic_load_n(&r->injected, __ATOMIC_RELAXED) >= r->max_count) return 0;
    __atomic_add_fetch(&r->injected, 1, __ATOMIC_RELAXED);
    return r->action;
}

#define FAIL_OR(i, retval) do { int a_ = decide(i); if (a_ > 0) { errno = a_; return retval; } } while (0)

static void *(*real_dlsym)(void *, const char *);

static void *next(const char *name) { return real_dlsym(RTLD_NEXT, name); }

static ssize_t w_recv(int fd, void *b, size_t n, int fl) {
    static ssize_t (*f)(int, void *, size_t, int); if (!f) f = next("recv");
    int a = decide(R_RECV);
    if (a > 0) { errno = a; return -1; }
    if (a == ACTION_DELAY) usleep(rules[R_RECV].delay_ms * 1000);
    if (a == ACTION_SHORT && n > 3) n = 3;
    return f(fd, b, n, fl);
}
static ssize_t w_send(int fd, const void *b, size_t n, int fl) {
    static ssize_t (*f)(int, const void *, size_t, int); if (!f) f = next("send");
    int a = decide(R_SEND);
    if (a > 0) { errno = a; return -1; }
    if (a == ACTION_DELAY) usleep(rules[R_SEND].delay_ms * 1000);
    if (a == ACTION_SHORT && n > 3) n = 3;
    return f(fd, b, n, fl);
}
static ssize_t w_read(int fd, void *b, size_t n) {
    static ssize_t (*f)(int, void *, size_t); if (!f) f = next("read");
    int a = decide(R_READ);
    if (a > 0) { errno = a; return -1; }
    if (a == ACTION_DELAY) usleep(rules[R_READ].delay_ms * 1000);
    if (a == ACTION_SHORT && n > 3) n = 3;
    return f(fd, b, n);
}
static ssize_t w_write(int fd, const void *b, size_t n) {
    static ssize_t (*f)(int, const void *, size_t); if (!f) f = next("write");
    int a = decide(R_WRITE);
    if (a > 0) { errno = a; return -1; }
    if (a == ACTION_DELAY) usleep(rules[R_WRITE].delay_ms * 1000);
    if (a == ACTION_SHORT && n > 3) n = 3;
    return f(fd, b, n);
}
static ssize_t w_sendto(int fd, const void *b, size_t n, int fl, const struct sockaddr *sa, socklen_t l) {
    static ssize_t (*f)(int, const void *, size_t, int, const struct sockaddr *, socklen_t); if (!f) f = next("sendto");
    FAIL_OR(R_SENDTO, -1);
    return f(fd, b, n, fl, sa, l);
}
static ssize_t w_recvfrom(int fd, void *b, size_t n, int fl, struct sockaddr *sa, socklen_t *l) {
    static ssize_t (*f)(int, void *, size_t, int, struct sockaddr *, socklen_t *); if (!f) f = next("recvfrom");
    FAIL_OR(R_RECVFROM, -1);
    return f(fd, b, n, fl, sa, l);
}
static int w_accept4(int fd, struct sockaddr *sa, socklen_t *l, int fl) {
    static int (*f)(int, struct sockaddr *, socklen_t *, int); if (!f) f = next("accept4");
    FAIL_OR(R_ACCEPT4, -1);
    return f(fd, sa, l, fl);
}
static int w_connect(int fd, const struct sockaddr *sa, socklen_t l) {
    static int (*f)(int, const struct sockaddr *, socklen_t); if (!f) f = next("connect");
    FAIL_OR(R_CONNECT, -1);
    return f(fd, sa, l);
}
static int w_socket(int d, int t, int p) {
    static int (*f)(int, int, int); if (!f) f = next("socket");
    FAIL_OR(R_SOCKET, -1);
    return f(d, t, p);
}
static int w_epoll_wait(int ep, struct epoll_event *ev, int n, int to) {
    static int (*f)(int, struct epoll_event *, int, int); if (!f) f = next("epoll_wait");
    FAIL_OR(R_EPOLL_WAIT, -1);
    return f(ep, ev, n, to);
}
static int w_epoll_create1(int flags) {
    static int (*f)(int); if (!f) f = next("epoll_create1");
    FAIL_OR(R_EPOLL_CREATE1, -1);
    return f(flags);
}
static int w_poll(struct pollfd *fds, nfds_t n, int to) {
    static int (*f)(struct pollfd *, nfds_t, int); if (!f) f = next("poll");
    FAIL_OR(R_POLL, -1);
    return f(fds, n, to);
}
// The io_uring instances of the process, for SYSCALLS_FAULTS_NO_CANCEL_FD: what io_uring_setup returned and where the
// SQ ring and the SQE array are mapped.
typedef struct { int fd; unsigned entries; struct io_sqring_offsets off; uint8_t *sq; struct io_uring_sqe *sqes; } uring_t;
static uring_t urings[64];
static pthread_mutex_t urings_lock = PTHREAD_MUTEX_INITIALIZER;

static uring_t *uring_of(int fd, int create) {
    uring_t *free_slot = NULL;
    for (int i = 0; i < 64; i++) {
        if (urings[i].fd == fd && urings[i].entries) return &urings[i];
        if (!urings[i].entries && !free_slot) free_slot = &urings[i];
    }
    if (!create || !free_slot) return NULL;
    free_slot->fd = fd;
    return free_slot;
}

// Before the kernel reads the SQEs io_uring_enter submits, gives every ASYNC_CANCEL keyed by descriptor a flag bit no
// kernel defines: the kernel then refuses it with EINVAL, as one before 5.19 refuses IORING_ASYNC_CANCEL_FD.
static void refuse_cancel_by_fd(int ring_fd) {
    pthread_mutex_lock(&urings_lock);
    uring_t *u = uring_of(ring_fd, 0);
    if (u && u->sq && u->sqes) {
        unsigned head = __atomic_load_n((unsigned *)(u->sq + u->off.head), __ATOMIC_ACQUIRE);
        unsigned tail = __atomic_load_n((unsigned *)(u->sq + u->off.tail), __ATOMIC_ACQUIRE);
        unsigned mask = *(unsigned *)(u->sq + u->off.ring_mask);
        unsigned *array = (unsigned *)(u->sq + u->off.array);
        for (unsigned i = head; i != tail; i++) {
            struct io_uring_sqe *sqe = &u->sqes[array[i & mask]];
            if (sqe->opcode == IORING_OP_ASYNC_CANCEL
                && (sqe->cancel_flags & (IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY)))
                sqe->cancel_flags |= 0x80000000u;
        }
    }
    pthread_mutex_unlock(&urings_lock);
}

static void *w_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    static void *(*f)(void *, size_t, int, int, int, off_t); if (!f) f = next("mmap");
    void *p = f(addr, len, prot, flags, fd, off);
    if (no_cancel_fd && p != MAP_FAILED && fd >= 0 && (off == IORING_OFF_SQ_RING || off == IORING_OFF_SQES)) {
        pthread_mutex_lock(&urings_lock);
        uring_t *u = uring_of(fd, 0);
        if (u && off == IORING_OFF_SQ_RING) u->sq = p;
        else if (u) u->sqes = p;
        pthread_mutex_unlock(&urings_lock);
    }
    return p;
}

static long w_syscall(long number, ...) {
    static long (*f)(long, ...); if (!f) f = next("syscall");
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_io_uring_setup) FAIL_OR(R_URING_SETUP, -1);
    if (number == SYS_io_uring_enter) FAIL_OR(R_URING_ENTER, -1);
    if (number == SYS_io_uring_register) FAIL_OR(R_URING_REGISTER, -1);
    if (number == SYS_io_uring_enter && no_cancel_fd && a2 > 0) refuse_cancel_by_fd((int)a1);
    long rc = f(number, a1, a2, a3, a4, a5, a6);
    if (number == SYS_io_uring_setup && no_cancel_fd && rc >= 0) {
        const struct io_uring_params *p = (const struct io_uring_params *)a2;
        pthread_mutex_lock(&urings_lock);
        uring_t *u = uring_of((int)rc, 0);
        if (!u) u = uring_of((int)rc, 1);   // a number reused by a new ring replaces the old ring's entry
        if (u) { u->entries = p->sq_entries; u->off = p->sq_off; u->sq = NULL; u->sqes = NULL; }
        pthread_mutex_unlock(&urings_lock);
    }
    // IORING_REGISTER_PROBE (8): struct io_uring_probe { u8 last_op, ops_len; u16 resv; u32 resv2[3]; ops[] }, each
    // op { u8 op, resv; u16 flags; u32 resv2 }; flags bit 0 is IO_URING_OP_SUPPORTED.
    if (number == SYS_io_uring_register && a2 == 8 && rc >= 0 && hide_opcode >= 0 && a3) {
        uint8_t *probe = (uint8_t *)a3;
        int ops_len = probe[1];
        for (int i = 0; i < ops_len && i < (int)a4; i++) {
            uint8_t *op = probe + 16 + 8 * i;
            if (op[0] == hide_opcode) { uint16_t flags; memcpy(&flags, op + 2, 2); flags &= ~1u; memcpy(op + 2, &flags, 2); }
        }
    }
    return rc;
}

static const struct { const char *name; void *fn; } wrappers[] = {
    {"recv", (void *)w_recv}, {"send", (void *)w_send}, {"read", (void *)w_read}, {"write", (void *)w_write},
    {"sendto", (void *)w_sendto}, {"recvfrom", (void *)w_recvfrom}, {"accept4", (void *)w_accept4},
    {"connect", (void *)w_connect}, {"socket", (void *)w_socket}, {"epoll_wait", (void *)w_epoll_wait},
    {"poll", (void *)w_poll}, {"syscall", (void *)w_syscall}, {"epoll_create1", (void *)w_epoll_create1},
    {"mmap", (void *)w_mmap},
};

void *dlsym(void *handle, const char *name) {
    if (!real_dlsym) {
        real_dlsym = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
        if (!real_dlsym) real_dlsym = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
        if (!real_dlsym) real_dlsym = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.17");
    }
    configure();
    if (handle != RTLD_NEXT && handle != RTLD_DEFAULT) {
        for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
            if (!strcmp(name, wrappers[i].name)) {
                for (int r = 0; r < R_COUNT; r++)
                    if (rules[r].active || hide_opcode >= 0 || no_cancel_fd) return wrappers[i].fn;
                break;
            }
        }
    }
    return real_dlsym(handle, name);
}

#ifdef FAULT_PROBE
// The shim as its own test program (FaultShim.Probe): an executable's dlsym interposes like a preloaded one, so this
// runs the same parsing and wrappers as LD_PRELOAD does.
//   fault-probe                 calls socket() through dlsym(libc) under SYSCALLS_FAULTS; prints "RESULT ERRNO"
//   fault-probe --names N...    prints "NAME VALUE" per name as errno_of maps it (0: unknown)
#include <sys/socket.h>
int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--names")) {
        for (int i = 2; i < argc; i++) printf("%s %d\n", argv[i], errno_of(argv[i]));
        return 0;
    }
    void *libc = dlopen("libc.so.6", RTLD_NOW);
    if (!libc) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 3; }
    int (*sock)(int, int, int) = (int (*)(int, int, int))dlsym(libc, "socket");
    errno = 0;
    int fd = sock(AF_INET, SOCK_STREAM, 0);
    printf("%d %d\n", fd, fd < 0 ? errno : 0);
    return 0;
}
#endif
