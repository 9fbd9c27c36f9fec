/* log.c - see log.h. */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Batching (hk_log_start): under load every accepted trigger logs a line, and a write()
 * per line was one of the few system calls per request left to cut (docs/http-front.md).
 * Lines go into a buffer instead; a flusher thread writes what has gathered every
 * FLUSH_US in one write(), and sleeps on a condition variable while nothing comes, so an
 * idle hookd does not wake up. Before hk_log_start and after hk_log_stop, lines are
 * written directly. */
#define FLUSH_US 1000
#define BUF_CAP (64 * 1024)

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char buf[BUF_CAP];
    size_t len;
    bool on, stopping, idle;     /* idle: the flusher waits on cv */
    pthread_t flusher;
} lg = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

#define SECRET_MAX 256

static struct {
    pthread_mutex_t mu;
    char s[2][SECRET_MAX];       /* the newest first */
} secrets = {.mu = PTHREAD_MUTEX_INITIALIZER};

void hk_log_secret(const char *secret)
{
    if (!secret || strlen(secret) < 8 || strlen(secret) >= SECRET_MAX)
        return;
    pthread_mutex_lock(&secrets.mu);
    if (strcmp(secrets.s[0], secret) != 0) {
        memcpy(secrets.s[1], secrets.s[0], SECRET_MAX);
        snprintf(secrets.s[0], SECRET_MAX, "%s", secret);
    }
    pthread_mutex_unlock(&secrets.mu);
}

/* Rewrites every occurrence of the secrets in msg[0..*len) (capacity cap) masked; the mask
 * is never longer than a secret, so the text only shrinks. */
static void mask_secrets(char *msg, size_t *len)
{
    char s[2][SECRET_MAX];
    pthread_mutex_lock(&secrets.mu);
    memcpy(s, secrets.s, sizeof s);
    pthread_mutex_unlock(&secrets.mu);
    for (int k = 0; k < 2; k++) {
        size_t sl = strlen(s[k]);
        if (sl == 0)
            continue;
        char m[16];
        hk_mask(s[k], m, sizeof m);
        size_t ml = strlen(m);
        msg[*len] = '\0';
        for (char *p = strstr(msg, s[k]); p; p = strstr(p + ml, s[k])) {
            memcpy(p, m, ml);
            memmove(p + ml, p + sl, (size_t)(msg + *len - (p + sl)) + 1);
            *len -= sl - ml;
        }
    }
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;   /* nowhere else to report it */
        p += w;
        n -= (size_t)w;
    }
}

/* with lg.mu held */
static void flush_locked(void)
{
    if (lg.len > 0) {
        write_all(lg.buf, lg.len);
        lg.len = 0;
    }
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lg.mu);
    while (!lg.stopping) {
        if (lg.len == 0) {
            lg.idle = true;
            while (lg.idle && !lg.stopping)
                pthread_cond_wait(&lg.cv, &lg.mu);
            lg.idle = false;
            continue;
        }
        /* let the lines of the next millisecond gather, then write them in one go. The
         * write happens under the lock, so lines stay whole and in order; writers of new
         * lines wait for it at most that long. */
        pthread_mutex_unlock(&lg.mu);
        struct timespec ts = {0, FLUSH_US * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lg.mu);
        flush_locked();
    }
    flush_locked();
    pthread_mutex_unlock(&lg.mu);
    return NULL;
}

void hk_log_start(void)
{
    pthread_mutex_lock(&lg.mu);
    if (!lg.on && pthread_create(&lg.flusher, NULL, flusher_main, NULL) == 0) {
        lg.on = true;
        lg.stopping = false;
    }
    pthread_mutex_unlock(&lg.mu);
}

void hk_log_stop(void)
{
    pthread_mutex_lock(&lg.mu);
    bool on = lg.on;
    lg.stopping = true;
    pthread_cond_signal(&lg.cv);
    pthread_mutex_unlock(&lg.mu);
    if (on)
        pthread_join(lg.flusher, NULL);
    pthread_mutex_lock(&lg.mu);
    lg.on = false;
    flush_locked();
    pthread_mutex_unlock(&lg.mu);
}

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
    size_t msglen = (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    mask_secrets(line + n, &msglen);
    n += msglen;
    line[n++] = '\n';
    pthread_mutex_lock(&lg.mu);
    if (!lg.on || lg.stopping) {
        /* one write per line, so lines from several threads never interleave */
        flush_locked();
        write_all(line, n);
    } else {
        if (lg.len + n > sizeof lg.buf)
            flush_locked();   /* a burst larger than the buffer: written now, in order */
        memcpy(lg.buf + lg.len, line, n);
        lg.len += n;
        if (lg.idle) {
            lg.idle = false;   /* one wake-up is enough */
            pthread_cond_signal(&lg.cv);
        }
    }
    pthread_mutex_unlock(&lg.mu);
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
