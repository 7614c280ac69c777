// scan: --target linux-x64 --target linux-arm64
/* struct epoll_event from the pinned glibc headers: packed on x86-64 (12 bytes, data at 4), natural on arm64 (16, at 8). */
#include <sys/epoll.h>

typedef struct epoll_event fixture_epoll_event;
