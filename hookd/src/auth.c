/* auth.c - see auth.h. */
#define _GNU_SOURCE
#include "auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SESSIONS 64
#define SESSION_IDLE_MS (12LL * 3600 * 1000)

typedef struct {
    char token[HK_TOKEN_LEN + 1];
    char csrf[HK_TOKEN_LEN + 1];
    int64_t last_ms;          /* monotonic */
} session;

struct hk_auth {
    hk_store *store;
    pthread_mutex_t mu;
    char hash[HK_PWHASH_MAX];
    session s[MAX_SESSIONS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hk_auth *hk_auth_new(hk_store *s)
{
    hk_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->store = s;
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void hk_auth_free(hk_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    memset(a, 0, sizeof *a);
    free(a);
}

int hk_auth_reload(hk_auth *a)
{
    char *h = NULL;
    int rc = hk_store_setting_get(a->store, "admin_password", &h);
    if (rc != HK_OK && rc != HK_E_NOTFOUND)
        return -1;
    pthread_mutex_lock(&a->mu);
    const char *nh = h ? h : "";
    if (strcmp(nh, a->hash) != 0) {
        if (a->hash[0])
            memset(a->s, 0, sizeof a->s);   /* changed elsewhere: log everyone out */
        strncpy(a->hash, nh, sizeof a->hash - 1);
    }
    pthread_mutex_unlock(&a->mu);
    free(h);
    return 0;
}

bool hk_auth_has_password(hk_auth *a)
{
    pthread_mutex_lock(&a->mu);
    bool has = a->hash[0] != '\0';
    pthread_mutex_unlock(&a->mu);
    return has;
}

bool hk_auth_check_password(hk_auth *a, const char *password)
{
    char hash[HK_PWHASH_MAX];
    pthread_mutex_lock(&a->mu);
    memcpy(hash, a->hash, sizeof hash);
    pthread_mutex_unlock(&a->mu);
    return hash[0] && hk_password_check(password, hash);
}

int hk_auth_login(hk_auth *a, const char *password, char *token, char *csrf)
{
    if (!hk_auth_has_password(a))
        return -2;
    if (!hk_auth_check_password(a, password))
        return -1;
    if (hk_token_new(token) != 0 || hk_token_new(csrf) != 0)
        return -3;
    int64_t now = mono_ms();
    pthread_mutex_lock(&a->mu);
    session *slot = &a->s[0];
    for (int i = 0; i < MAX_SESSIONS; i++) {
        session *c = &a->s[i];
        if (!c->token[0] || now - c->last_ms > SESSION_IDLE_MS) {
            slot = c;
            break;
        }
        if (c->last_ms < slot->last_ms)
            slot = c;   /* full: the least recently used goes */
    }
    memcpy(slot->token, token, HK_TOKEN_LEN + 1);
    memcpy(slot->csrf, csrf, HK_TOKEN_LEN + 1);
    slot->last_ms = now;
    pthread_mutex_unlock(&a->mu);
    return 0;
}

bool hk_auth_session(hk_auth *a, const char *token, char *csrf)
{
    if (!token || strlen(token) != HK_TOKEN_LEN)
        return false;
    int64_t now = mono_ms();
    bool ok = false;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        session *c = &a->s[i];
        if (c->token[0] && hk_secret_eq(c->token, token)) {
            if (now - c->last_ms > SESSION_IDLE_MS) {
                memset(c, 0, sizeof *c);
                break;
            }
            c->last_ms = now;
            if (csrf)
                memcpy(csrf, c->csrf, HK_TOKEN_LEN + 1);
            ok = true;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void hk_auth_logout(hk_auth *a, const char *token)
{
    if (!token)
        return;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (a->s[i].token[0] && hk_secret_eq(a->s[i].token, token))
            memset(&a->s[i], 0, sizeof a->s[i]);
    pthread_mutex_unlock(&a->mu);
}

int hk_auth_store_password(hk_store *s, const char *password)
{
    char hash[HK_PWHASH_MAX];
    if (hk_password_hash(password, hash) != 0)
        return -1;
    return hk_store_setting_set(s, "admin_password", hash) == HK_OK ? 0 : -1;
}

int hk_auth_set_password(hk_auth *a, const char *password, const char *keep_token)
{
    char hash[HK_PWHASH_MAX];
    if (hk_password_hash(password, hash) != 0 ||
        hk_store_setting_set(a->store, "admin_password", hash) != HK_OK)
        return -1;
    pthread_mutex_lock(&a->mu);
    memcpy(a->hash, hash, sizeof hash);
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!keep_token || !a->s[i].token[0] || !hk_secret_eq(a->s[i].token, keep_token))
            memset(&a->s[i], 0, sizeof a->s[i]);
    pthread_mutex_unlock(&a->mu);
    return 0;
}
