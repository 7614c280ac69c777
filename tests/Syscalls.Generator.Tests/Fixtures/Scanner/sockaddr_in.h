// scan: --target linux-x64 --target osx-arm64 --target win-x64
/* struct sockaddr_in from the pinned headers: Linux has a 2-byte sin_family, macOS sin_len plus a 1-byte family. */
#if defined(_WIN32)
#include <winsock2.h>
#else
#include <netinet/in.h>
#endif

typedef struct sockaddr_in fixture_sockaddr_in;
