/* Not a golden fixture: a header clang rejects. */
struct broken {
    int a
    int b;
};
