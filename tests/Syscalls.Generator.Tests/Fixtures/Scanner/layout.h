// scan: --target linux-x64
/* Records: packed, unions, nested anonymous members, bitfields, flexible arrays, function pointers. */
#include <stdint.h>

/** A packed record: b sits at offset 1. */
struct packed_pair {
    uint8_t a;
    uint32_t b;
} __attribute__((packed));

#pragma pack(push, 2)
/* #pragma pack lowers the alignment without the attribute. */
struct pragma_packed {
    uint16_t tag;
    uint64_t value;
};
#pragma pack(pop)

union number {
    int32_t i;
    int64_t l;
    double d;
    char bytes[3];
};

/* Anonymous members nest: the fields of both are named as if they were the parent's. */
struct message {
    int kind;
    union {
        struct {
            uint16_t lo; /**< low half */
            uint16_t hi;
        };
        uint32_t all;
    };
    union {
        uint64_t addr;
        uint64_t off;
    };
    struct {
        int x, y;
    } point;
};

struct flags {
    unsigned ready : 1;
    unsigned mode : 3;
    int : 4;
    unsigned rest : 12;
    uint8_t after;
    uint64_t wide : 40;
};

struct buffer {
    uint32_t len;
    uint32_t cap;
    unsigned char data[];
};

typedef void (*completion_fn)(void *state, int result);

struct callbacks {
    completion_fn done;
    int (*compare)(const void *, const void *);
    void *(*alloc)(uint64_t size, ...);
    struct buffer *current;
};

typedef struct {
    int first;
    union number second;
} untagged_pair;
