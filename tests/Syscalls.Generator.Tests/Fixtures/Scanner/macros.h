// scan: --target linux-x64 --target linux-arm64
/* Every macro form the compiler must evaluate for the target. */
#include <linux/ioctl.h>

struct ioctl_arg {
    int a;
    long b;
};

#define PLAIN 42
#define HEX_FLAGS 0x80
#define NEGATIVE (-17)            /* a negative constant */
#define SHIFTED (1U << 31)
#define SHIFT_64 (1ULL << 40)
#define CAST_SHORT ((short)70000)
#define CAST_UNSIGNED_CHAR ((unsigned char)-1)
#define ALL_ONES_U64 0xFFFFFFFFFFFFFFFFULL
#define MIN_I64 (-9223372036854775807LL - 1)
#define SIZE_OF_ARG sizeof(struct ioctl_arg)
#define SIZE_OF_LONG sizeof(long)
#define COMBINED (PLAIN | HEX_FLAGS)
#define CHAR_CONST 'A'
/* Function-like macros, expanded by the compiler: a local one and the kernel's _IOR/_IOW. */
#define MAKE_ID(major, minor) (((major) << 8) | (minor))
#define DEVICE_ID MAKE_ID(3, 7)
#define READ_ARG _IOR('x', 1, struct ioctl_arg)
#define WRITE_INT _IOW('x', 2, int)

enum mode { MODE_READ = 1, MODE_WRITE = 2, MODE_BOTH = MODE_READ | MODE_WRITE };
enum wide { WIDE_SMALL = 1, WIDE_BIG = 0x100000000 };
enum negative { NEG_ONE = -1, NEG_ZERO = 0 };
enum { UNTAGGED_A = 7, UNTAGGED_B };
