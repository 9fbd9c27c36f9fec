/* ratelimit.c - see ratelimit.h. */
#define _GNU_SOURCE
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096          /* a power of two */
#define PROBE 8
#define NAME_MAX_LEN 63

typedef struct {
    char name[NAME_MAX_LEN + 1];
    double tokens;
    int64_t last_ms;
} bucket;

struct hk_limiter {
    double rate, burst;
    pthread_mutex_t mu;
    bucket slot[SLOTS];
};

hk_limiter *hk_limiter_new(double rate, double burst)
{
    hk_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void hk_limiter_free(hk_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

bool hk_limiter_take(hk_limiter *l, const char *name, int64_t now_ms, int *retry_after_s)
{
    *retry_after_s = 0;
    if (!l || l->rate <= 0)
        return true;
    char key[NAME_MAX_LEN + 1];
    strncpy(key, name, NAME_MAX_LEN);
    key[NAME_MAX_LEN] = '\0';
    uint32_t h = fnv1a(key);
    pthread_mutex_lock(&l->mu);
    bucket *b = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < PROBE; i++) {
        bucket *c = &l->slot[(h + i) & (SLOTS - 1)];
        if (c->name[0] && strcmp(c->name, key) == 0) {
            b = c;
            break;
        }
        if (!oldest || c->last_ms < oldest->last_ms)
            oldest = c;   /* empty slots have last_ms 0: they are the oldest */
    }
    if (!b) {
        b = oldest;
        memcpy(b->name, key, sizeof key);
        b->tokens = l->burst;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens = fmin(l->burst, b->tokens + (double)(now_ms - b->last_ms) * l->rate / 1000.0);
        b->last_ms = now_ms;
    }
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_after_s = (int)ceil((1.0 - b->tokens) / l->rate);
    pthread_mutex_unlock(&l->mu);
    if (!ok && *retry_after_s < 1)
        *retry_after_s = 1;
    return ok;
}
