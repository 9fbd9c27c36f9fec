/* log.c - see log.h. */
#define _GNU_SOURCE
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void hk_log(const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ hookd: ", ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    /* one write per line, so lines from several threads never interleave */
    fwrite(line, 1, n, stderr);
}

const char *hk_mask(const char *secret, char *out, size_t cap)
{
    if (!secret || !*secret) {
        snprintf(out, cap, "(none)");
        return out;
    }
    size_t n = strlen(secret);
    if (n > 4)
        n = 4;
    snprintf(out, cap, "%.*s\xe2\x80\xa6", (int)n, secret);
    return out;
}
