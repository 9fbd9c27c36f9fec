/* log.c - see log.h. */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
 * idle hookd does not wake up. Two buffers: the flusher swaps them and writes the full one
 * outside the lock, so the HTTP threads adding lines never wait for its write() (they did,
 * and that contention was a futex call per trigger or so; docs/http-front.md). Any other
 * write (a burst that fills the buffer, lines before hk_log_start or after hk_log_stop)
 * waits until the flusher's write is done, so lines stay whole and in order. */
#define FLUSH_US 10000
#define QUIET_TURNS 20
#define BUF_CAP (256 * 1024)

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* the flusher waits for lines */
    pthread_cond_t room;         /* others wait for the flusher's write to end */
    char buf[2][BUF_CAP];
    int cur;                     /* the buffer lines go to */
    size_t len;
    bool on, stopping, idle;     /* idle: the flusher waits on cv */
    bool writing;                /* the flusher writes the other buffer, unlocked */
    pthread_t flusher;
} lg = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
        .room = PTHREAD_COND_INITIALIZER};

#define SECRET_MAX 256

static struct {
    pthread_mutex_t mu;
    char s[2][SECRET_MAX];       /* the newest first */
    atomic_uint gen;             /* changes with s: each thread keeps its own copy until then */
} secrets = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Each thread's copy of the secrets and their masks: a line then takes no lock to mask them
 * (two HTTP threads logging a line per trigger met on that lock). */
static _Thread_local struct {
    unsigned gen;                /* of secrets.gen, plus one; 0: none copied yet */
    char s[2][SECRET_MAX];
    size_t sl[2], ml[2];
    char m[2][16];
} mine;

void hk_log_secret(const char *secret)
{
    if (!secret || strlen(secret) < 8 || strlen(secret) >= SECRET_MAX)
        return;
    pthread_mutex_lock(&secrets.mu);
    if (strcmp(secrets.s[0], secret) != 0) {
        memcpy(secrets.s[1], secrets.s[0], SECRET_MAX);
        snprintf(secrets.s[0], SECRET_MAX, "%s", secret);
        atomic_fetch_add(&secrets.gen, 1);
    }
    pthread_mutex_unlock(&secrets.mu);
}

/* Rewrites every occurrence of the secrets in msg[0..*len) (capacity cap) masked; the mask
 * is never longer than a secret, so the text only shrinks. */
static void mask_secrets(char *msg, size_t *len)
{
    unsigned gen = atomic_load(&secrets.gen) + 1;
    if (mine.gen != gen) {
        pthread_mutex_lock(&secrets.mu);
        memcpy(mine.s, secrets.s, sizeof mine.s);
        mine.gen = atomic_load(&secrets.gen) + 1;
        pthread_mutex_unlock(&secrets.mu);
        for (int k = 0; k < 2; k++) {
            mine.sl[k] = strlen(mine.s[k]);
            hk_mask(mine.s[k], mine.m[k], sizeof mine.m[k]);
            mine.ml[k] = strlen(mine.m[k]);
        }
    }
    for (int k = 0; k < 2; k++) {
        size_t sl = mine.sl[k], ml = mine.ml[k];
        if (sl == 0)
            continue;
        msg[*len] = '\0';
        for (char *p = strstr(msg, mine.s[k]); p; p = strstr(p + ml, mine.s[k])) {
            memcpy(p, mine.m[k], ml);
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

/* with lg.mu held: writes what is buffered, after the flusher's write in progress */
static void flush_locked(void)
{
    while (lg.writing)
        pthread_cond_wait(&lg.room, &lg.mu);
    if (lg.len > 0) {
        write_all(lg.buf[lg.cur], lg.len);
        lg.len = 0;
    }
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lg.mu);
    unsigned quiet = 0;          /* turns in a row with nothing to write */
    while (!lg.stopping) {
        /* idle (and woken by the next line) only after QUIET_TURNS empty turns: under load
         * the flusher just keeps its 1 ms turns, and no line pays for a wake-up */
        if (lg.len == 0 && ++quiet > QUIET_TURNS) {
            quiet = 0;
            lg.idle = true;
            while (lg.idle && !lg.stopping)
                pthread_cond_wait(&lg.cv, &lg.mu);
            lg.idle = false;
            continue;
        }
        if (lg.len > 0)
            quiet = 0;
        /* let the lines of the next millisecond gather, then write them in one go, from
         * the buffer taken out of use while the other one fills */
        pthread_mutex_unlock(&lg.mu);
        struct timespec ts = {0, FLUSH_US * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lg.mu);
        if (lg.len == 0)
            continue;
        const char *full = lg.buf[lg.cur];
        size_t n = lg.len;
        lg.cur ^= 1;
        lg.len = 0;
        lg.writing = true;
        pthread_mutex_unlock(&lg.mu);
        write_all(full, n);
        pthread_mutex_lock(&lg.mu);
        lg.writing = false;
        pthread_cond_broadcast(&lg.room);
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

#define LINE_MAX_BYTES 2048

/* the line's "2026-12-04T21:46:34" part, made once a second per thread */
static size_t stamp(char *out, size_t cap, time_t sec)
{
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char text[32];
    static _Thread_local size_t len;
    if (sec != last) {
        struct tm tm;
        gmtime_r(&sec, &tm);
        len = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
        last = sec;
    }
    size_t n = len < cap ? len : 0;
    memcpy(out, text, n);
    return n;
}

/* the line's start: "2026-12-04T21:46:34.123Z hookd: " (32 bytes of line) */
static size_t head(char *line)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t n = stamp(line, 32, ts.tv_sec);
    long ms = ts.tv_nsec / 1000000;
    memcpy(line + n, ".000Z hookd: ", 13);
    line[n + 1] = (char)('0' + ms / 100);
    line[n + 2] = (char)('0' + ms / 10 % 10);
    line[n + 3] = (char)('0' + ms % 10);
    return n + 13;
}

/* the message at line + n, msglen bytes (room for one more): masked, ended, queued */
static void put_line(char *line, size_t n, size_t msglen)
{
    mask_secrets(line + n, &msglen);
    n += msglen;
    line[n++] = '\n';
    pthread_mutex_lock(&lg.mu);
    if (!lg.on || lg.stopping) {
        /* one write per line, so lines from several threads never interleave */
        flush_locked();
        write_all(line, n);
    } else {
        if (lg.len + n > BUF_CAP)
            flush_locked();   /* a burst larger than the buffer: written now, in order */
        memcpy(lg.buf[lg.cur] + lg.len, line, n);
        lg.len += n;
        if (lg.idle) {
            lg.idle = false;   /* one wake-up is enough */
            pthread_cond_signal(&lg.cv);
        }
    }
    pthread_mutex_unlock(&lg.mu);
}

void hk_log(const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    size_t n = head(line);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    put_line(line, n, (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2);
}

void hk_log_text(const char *msg, size_t len)
{
    char line[LINE_MAX_BYTES];
    size_t n = head(line);
    if (len > sizeof line - n - 2)
        len = sizeof line - n - 2;
    memcpy(line + n, msg, len);
    put_line(line, n, len);
}

const char *hk_mask(const char *secret, char *out, size_t cap)
{
    /* by hand rather than snprintf: it is on every trigger's log line */
    const char *s = secret && *secret ? secret : "(none)";
    size_t n = secret && *secret ? strnlen(secret, 4) : 6;
    bool dots = secret && *secret;
    if (cap < n + (dots ? 3 : 0) + 1) {
        if (cap)
            out[0] = '\0';
        return out;
    }
    memcpy(out, s, n);
    if (dots)
        memcpy(out + n, "\xe2\x80\xa6", 3);
    out[n + (dots ? 3 : 0)] = '\0';
    return out;
}
