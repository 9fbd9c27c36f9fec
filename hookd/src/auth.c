/* auth.c - see auth.h. */
#define _GNU_SOURCE
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>

#define SESSION_IDLE_MS (12LL * 3600 * 1000)

struct hk_auth {
    hk_store *store;
    pthread_mutex_t mu;
    char hash[HK_PWHASH_MAX];
};

/* A session's id in the store: SHA-256 of the cookie's token, in hex. The store (a database
 * that backups and replicas copy) never holds a token that would log anyone in. */
static int session_id(const char *token, char id[65])
{
    unsigned char h[32];
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)token,
                   strlen(token), h) != 0)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(id + 2 * i, 3, "%02x", h[i]);
    return 0;
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
    /* whoever changed it also ended the sessions in the store */
    strncpy(a->hash, h ? h : "", sizeof a->hash - 1);
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
    char id[65];
    if (session_id(token, id) != 0 ||
        hk_store_session_put(a->store, id, csrf, SESSION_IDLE_MS) != HK_OK)
        return -3;
    return 0;
}

bool hk_auth_session(hk_auth *a, const char *token, char *csrf)
{
    char id[65];
    if (!token || strlen(token) != HK_TOKEN_LEN || session_id(token, id) != 0)
        return false;
    return hk_store_session_get(a->store, id, SESSION_IDLE_MS, csrf, csrf ? HK_TOKEN_LEN + 1 : 0)
           == HK_OK;
}

void hk_auth_logout(hk_auth *a, const char *token)
{
    char id[65];
    if (token && session_id(token, id) == 0)
        hk_store_session_delete(a->store, id, NULL);
}

int hk_auth_store_password(hk_store *s, const char *password)
{
    char hash[HK_PWHASH_MAX];
    if (hk_password_hash(password, hash) != 0 ||
        hk_store_setting_set(s, "admin_password", hash) != HK_OK)
        return -1;
    /* a new password ends every session, on every instance */
    return hk_store_session_delete(s, NULL, NULL) == HK_OK ? 0 : -1;
}

int hk_auth_set_password(hk_auth *a, const char *password, const char *keep_token)
{
    char hash[HK_PWHASH_MAX];
    if (hk_password_hash(password, hash) != 0 ||
        hk_store_setting_set(a->store, "admin_password", hash) != HK_OK)
        return -1;
    char keep[65];
    if (keep_token && session_id(keep_token, keep) != 0)
        return -1;
    pthread_mutex_lock(&a->mu);
    memcpy(a->hash, hash, sizeof hash);
    pthread_mutex_unlock(&a->mu);
    return hk_store_session_delete(a->store, NULL, keep_token ? keep : NULL) == HK_OK ? 0 : -1;
}
