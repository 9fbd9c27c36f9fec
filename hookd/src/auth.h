/*
 * auth.h - the admin login for /api/ (and the web page): one password, stored as a PBKDF2
 * hash in the store; sessions in the store too (a restart, or another instance sharing the
 * store, keeps the login), each with its own CSRF token that every change must echo in the
 * X-CSRF-Token header. A session ends after 12 hours without use, at logout, or when the
 * password changes.
 */
#ifndef HOOKD_AUTH_H
#define HOOKD_AUTH_H

#include <stdbool.h>

#include "secret.h"
#include "store.h"

typedef struct hk_auth hk_auth;

#define HK_SESSION_COOKIE "hookd_session"

hk_auth *hk_auth_new(hk_store *s);
void hk_auth_free(hk_auth *a);
/* Reads the password hash from the store (another process may have changed it). 0, or -1 when
 * the store cannot be read. */
int hk_auth_reload(hk_auth *a);
bool hk_auth_has_password(hk_auth *a);
/* 0 and a new session (token[HK_TOKEN_LEN + 1], csrf[HK_TOKEN_LEN + 1]), -1 wrong password,
 * -2 no password set, -3 internal error. */
int hk_auth_login(hk_auth *a, const char *password, char *token, char *csrf);
/* A valid session: true and its CSRF token (csrf may be NULL). */
bool hk_auth_session(hk_auth *a, const char *token, char *csrf);
void hk_auth_logout(hk_auth *a, const char *token);
bool hk_auth_check_password(hk_auth *a, const char *password);
/* Stores a new password; every session but keep_token (may be NULL) ends. 0 or -1. */
int hk_auth_set_password(hk_auth *a, const char *password, const char *keep_token);
/* The same, straight into a store (the CLI, the first start). */
int hk_auth_store_password(hk_store *s, const char *password);

#define HK_PASSWORD_MIN 8

#endif
