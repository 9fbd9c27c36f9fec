/* check.h - the small check harness of hookd's C unit tests: CHECK(cond, fmt, ...) counts
 * every check and prints file:line, the condition and a formatted detail when it fails. */
#ifndef HOOKD_TEST_CHECK_H
#define HOOKD_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        checks++;                                                                              \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#endif
