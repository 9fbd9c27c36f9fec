/* login.c - see login.h. */
#define _GNU_SOURCE
#include "login.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024          /* addresses followed at once; a power of two */
#define PROBE 16
#define KNOWN 64            /* addresses that logged in, kept */
#define NAME_LEN 48

typedef struct {
    char name[NAME_LEN];
    unsigned failures;
    int64_t last_ms;        /* the last failure (or admitted attempt) */
} counter;

typedef struct {
    void (*fn)(void *);
    void *arg;
} job;

struct hk_login {
    hk_login_cfg cfg;
    pthread_mutex_t mu;
    counter slot[SLOTS];
    counter account;
    char known[KNOWN][NAME_LEN];
    int64_t known_ms[KNOWN];
    /* the hash pool */
    pthread_cond_t cv;
    job *q;
    unsigned head, count;
    bool stopping;
    pthread_t *threads;
    unsigned nthreads;
};

/* the name an address is counted under: itself, or its /64 for IPv6 (one host's share) */
static void bucket_of(const char *ip, char out[NAME_LEN])
{
    struct in6_addr a6;
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a6, out, NAME_LEN);
    } else {
        snprintf(out, NAME_LEN, "%s", ip);
    }
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* with mu held: name's counter, or a free or the stalest one nearby taken for it (so memory
 * stays bounded however many addresses come; an evicted address starts again from 0, which
 * the account's count covers) */
static counter *find(hk_login *l, const char *name, bool make)
{
    uint32_t h = fnv1a(name);
    counter *stalest = NULL;
    for (unsigned i = 0; i < PROBE; i++) {
        counter *c = &l->slot[(h + i) & (SLOTS - 1)];
        if (strcmp(c->name, name) == 0)
            return c;
        if (!stalest || !c->name[0] || (stalest->name[0] && c->last_ms < stalest->last_ms))
            stalest = c;
    }
    if (!make)
        return NULL;
    memset(stalest, 0, sizeof *stalest);
    snprintf(stalest->name, NAME_LEN, "%s", name);
    return stalest;
}

/* the wait before the next attempt, for a count of failures */
static int64_t delay_ms(const hk_login_cfg *cfg, unsigned failures, unsigned max_s)
{
    if (failures < cfg->free_failures)
        return 0;
    unsigned doublings = failures - cfg->free_failures;
    int64_t d = cfg->delay_ms;
    for (unsigned i = 0; i < doublings && d < (int64_t)max_s * 1000; i++)
        d *= 2;
    return d < (int64_t)max_s * 1000 ? d : (int64_t)max_s * 1000;
}

static void forget_stale(const hk_login_cfg *cfg, counter *c, int64_t now_ms)
{
    if (c->failures && now_ms - c->last_ms >= (int64_t)cfg->forget_s * 1000)
        c->failures = 0;
}

static bool known(hk_login *l, const char *name)
{
    for (int i = 0; i < KNOWN; i++)
        if (strcmp(l->known[i], name) == 0)
            return true;
    return false;
}

/* seconds to wait, rounded up, at least 1 */
static int wait_s(int64_t until_ms, int64_t now_ms)
{
    int64_t s = (until_ms - now_ms + 999) / 1000;
    return s < 1 ? 1 : (int)s;
}

bool hk_login_admit(hk_login *l, const char *ip, int64_t now_ms, int *retry_after_s,
                    const char **which)
{
    *retry_after_s = 0;
    *which = "";
    if (!l)
        return true;
    char name[NAME_LEN];
    bucket_of(ip, name);
    pthread_mutex_lock(&l->mu);
    counter *c = find(l, name, true);
    forget_stale(&l->cfg, c, now_ms);
    forget_stale(&l->cfg, &l->account, now_ms);
    int64_t mine = c->last_ms + delay_ms(&l->cfg, c->failures, l->cfg.max_delay_s);
    int64_t acct = l->account.last_ms +
                   delay_ms(&l->cfg, l->account.failures, l->cfg.account_max_delay_s);
    bool ok = true;
    if (now_ms < mine) {
        *retry_after_s = wait_s(mine, now_ms);
        *which = "address";
        ok = false;
    } else if (now_ms < acct && !known(l, name)) {
        *retry_after_s = wait_s(acct, now_ms);
        *which = "account";
        ok = false;
    } else {
        /* counted as a failure until hk_login_done says otherwise */
        c->failures++;
        c->last_ms = now_ms;
        l->account.failures++;
        l->account.last_ms = now_ms;
    }
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void hk_login_done(hk_login *l, const char *ip, hk_login_outcome o, int64_t now_ms)
{
    (void)now_ms;
    if (!l || o == HK_LOGIN_WRONG)
        return;
    char name[NAME_LEN];
    bucket_of(ip, name);
    pthread_mutex_lock(&l->mu);
    counter *c = find(l, name, false);
    if (l->account.failures)
        l->account.failures--;   /* the attempt admitted was not a wrong password */
    if (c && o == HK_LOGIN_OK)
        c->failures = 0;
    else if (c && c->failures)
        c->failures--;
    if (o == HK_LOGIN_OK && !known(l, name)) {
        int oldest = 0;
        for (int i = 1; i < KNOWN; i++)
            if (l->known_ms[i] < l->known_ms[oldest])
                oldest = i;
        snprintf(l->known[oldest], NAME_LEN, "%s", name);
        l->known_ms[oldest] = now_ms;
    }
    pthread_mutex_unlock(&l->mu);
}

/* ---- the hash pool ---- */

static void *hasher(void *arg)
{
    hk_login *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->count && !l->stopping)
            pthread_cond_wait(&l->cv, &l->mu);
        if (!l->count)
            break;   /* stopping, and the queue is empty */
        job j = l->q[l->head];
        l->head = (l->head + 1) % l->cfg.queue;
        l->count--;
        pthread_mutex_unlock(&l->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int hk_login_submit(hk_login *l, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&l->mu);
    bool full = l->stopping || l->count >= l->cfg.queue;
    if (!full) {
        l->q[(l->head + l->count) % l->cfg.queue] = (job){fn, arg};
        l->count++;
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return full ? -1 : 0;
}

hk_login *hk_login_new(const hk_login_cfg *cfg)
{
    hk_login *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = *cfg;
    if (l->cfg.queue < 1)
        l->cfg.queue = 1;
    if (l->cfg.hash_threads < 1)
        l->cfg.hash_threads = 1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->q = calloc(l->cfg.queue, sizeof *l->q);
    l->threads = calloc(l->cfg.hash_threads, sizeof *l->threads);
    if (!l->q || !l->threads) {
        hk_login_free(l);
        return NULL;
    }
    for (unsigned i = 0; i < l->cfg.hash_threads; i++) {
        if (pthread_create(&l->threads[i], NULL, hasher, l) != 0) {
            hk_login_free(l);
            return NULL;
        }
        l->nthreads++;
    }
    return l;
}

void hk_login_stop(hk_login *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (unsigned i = 0; i < l->nthreads; i++)
        pthread_join(l->threads[i], NULL);
    l->nthreads = 0;
}

void hk_login_free(hk_login *l)
{
    if (!l)
        return;
    hk_login_stop(l);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->q);
    free(l->threads);
    free(l);
}
