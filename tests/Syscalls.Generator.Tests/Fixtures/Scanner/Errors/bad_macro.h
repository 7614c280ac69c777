/* Not a golden fixture: a macro that is not an integer constant expression. */
#define GOOD 1
extern int some_variable;
#define NOT_CONSTANT (some_variable + 1)
