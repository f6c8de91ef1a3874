/* SPDX-License-Identifier: MIT */
/* unit.h - the unit-test harness: TEST, CHECK*, UNIT_MAIN; prints TAP. */
#ifndef CN_UNIT_H
#define CN_UNIT_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit_case {
    const char *name;
    void (*fn)(void);
} unit_case;
static int unit_failed;
#define TEST(name) static void name(void)
#define UNIT_CASE(name)                                                                            \
    {                                                                                              \
#name, name                                                                                \
    }
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            unit_failed = 1;                                                                       \
            fprintf(stderr, "# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
        }                                                                                          \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            unit_failed = 1;                                                                       \
            fprintf(stderr, "# %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_ ? a_ : "(null)",     \
                    b_ ? b_ : "(null)");                                                           \
        }                                                                                          \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                                           \
            unit_failed = 1;                                                                       \
            fprintf(stderr, "# %s:%d: %.17g != %.17g (tol %g)\n", __FILE__, __LINE__, a_, b_,      \
                    (double)(tol));                                                                \
        }                                                                                          \
    } while (0)
#define UNIT_MAIN(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        static const unit_case cases[] = {__VA_ARGS__};                                            \
        int n = (int)(sizeof cases / sizeof cases[0]), bad = 0;                                    \
        printf("1..%d\n", n);                                                                      \
        for (int i = 0; i < n; i++) {                                                              \
            unit_failed = 0;                                                                       \
            cases[i].fn();                                                                         \
            printf("%s %d - %s\n", unit_failed ? "not ok" : "ok", i + 1, cases[i].name);           \
            bad += unit_failed;                                                                    \
        }                                                                                          \
        return bad ? 1 : 0;                                                                        \
    }
#endif
