/* Not a golden fixture: a record aligned beyond what C# explicit layout can express. */
struct over_aligned {
    int a;
} __attribute__((aligned(16)));
