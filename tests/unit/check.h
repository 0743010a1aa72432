/*
 * check.h - the unit tests' whole framework: assertion macros that report
 * file:line and the values compared, keep going after a failure and count,
 * plus a temporary-directory helper for tests that touch files.
 *
 * Each test file is its own executable (tests/CMakeLists.txt), so the
 * counters below are simply per-process statics. A test's main ends with
 * `return check_finish();`, which prints "N passed, M failed" and returns
 * non-zero if anything failed, as ctest expects.
 */
#ifndef CONVENE_TEST_CHECK_H
#define CONVENE_TEST_CHECK_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_passed_count;
static int check_failed_count;

static inline void check_report(int ok, const char *file, int line, const char *what)
{
    if (ok) {
        check_passed_count++;
        return;
    }
    check_failed_count++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

/* The check passes when cond is true. Evaluates cond once. */
#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Integer equality (any integer type, compared as long long). */
#define CHECK_EQ_INT(actual, expected)                                                        \
    do {                                                                                      \
        long long check_a_ = (long long)(actual);                                             \
        long long check_e_ = (long long)(expected);                                           \
        check_report(check_a_ == check_e_, __FILE__, __LINE__, #actual " == " #expected);    \
        if (check_a_ != check_e_)                                                             \
            fprintf(stderr, "    actual:   %lld\n    expected: %lld\n", check_a_, check_e_);  \
    } while (0)

/* String equality; NULL equals only NULL. */
#define CHECK_EQ_STR(actual, expected)                                                        \
    do {                                                                                      \
        const char *check_a_ = (actual);                                                      \
        const char *check_e_ = (expected);                                                    \
        int check_ok_ = (check_a_ == NULL || check_e_ == NULL)                                \
                            ? check_a_ == check_e_                                            \
                            : strcmp(check_a_, check_e_) == 0;                                \
        check_report(check_ok_, __FILE__, __LINE__, #actual " == " #expected);               \
        if (!check_ok_)                                                                       \
            fprintf(stderr, "    actual:   %s%s%s\n    expected: %s%s%s\n",                   \
                    check_a_ ? "\"" : "", check_a_ ? check_a_ : "(null)", check_a_ ? "\"" : "", \
                    check_e_ ? "\"" : "", check_e_ ? check_e_ : "(null)", check_e_ ? "\"" : ""); \
    } while (0)

/* Prints the tally; returns the process exit status. */
static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed_count, check_failed_count);
    fflush(stdout);
    return check_failed_count == 0 ? 0 : 1;
}

/*
 * Creates a fresh private directory under $TMPDIR (or /tmp) and writes its
 * path into out. Aborts the test on failure: nothing sensible can follow.
 */
static inline void check_tmpdir(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || *base == '\0')
        base = "/tmp";
    snprintf(out, cap, "%s/convene-unit-XXXXXX", base);
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Removes the files directly inside dir, then dir itself. */
static inline void check_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#endif
