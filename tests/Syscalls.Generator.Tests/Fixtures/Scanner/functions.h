// scan: --target linux-x64 --target win-x64
/* Functions: variadic, unnamed parameters, function pointers, calling conventions, enums and typedefs. */
#include <stddef.h>

typedef long ssize_type;
typedef enum { STATE_IDLE, STATE_BUSY = 4 } state_t;
struct handle;
typedef struct handle *handle_t;
typedef int (*visit_fn)(void *ctx, const char *name, size_t len);

/** Formats like printf. */
int log_format(const char *fmt, ...);
int control(int fd, unsigned long request, ...);
ssize_type read_some(handle_t h, void *buf, size_t len);
void unnamed_params(int, char *, double);
int no_params(void);
state_t walk(visit_fn visit, void *ctx);
int __attribute__((stdcall)) win_style(int a);
int fill(int fds[2]);

/* A transparent union parameter is passed as its first member (glibc's __SOCKADDR_ARG). */
struct addr_a { int a; };
struct addr_b { long b; };
typedef union {
    struct addr_a *as_a;
    struct addr_b *as_b;
} any_addr __attribute__((__transparent_union__));
int take_addr(any_addr addr, int len);
