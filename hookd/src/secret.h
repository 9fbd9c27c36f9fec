/*
 * secret.h - the trigger key, session tokens and the admin password hash.
 * Randomness comes from the kernel (getrandom); comparisons of secrets are constant time
 * (mbedTLS); passwords are stored as PBKDF2-HMAC-SHA256 with a random salt.
 */
#ifndef HOOKD_SECRET_H
#define HOOKD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define HK_KEY_LEN 22            /* IFTTT's key format: 22 chars of [A-Za-z0-9_-] */
#define HK_TOKEN_LEN 43          /* 32 random bytes, base64url */
#define HK_PWHASH_MAX 160

/* Fills buf with n bytes from the kernel's random source: 0, or -1 (errno). */
int hk_random(void *buf, size_t n);
/* A new key: 22 base64url characters (16 random bytes) and a NUL into out[HK_KEY_LEN + 1]. */
int hk_key_new(char *out);
/* A key given by a user (config): 16 to 128 characters of [A-Za-z0-9_-]. */
bool hk_key_valid(const char *key);
/* A session or CSRF token: HK_TOKEN_LEN characters and a NUL. */
int hk_token_new(char *out);
/* a == b without an early exit on the first differing byte (the lengths may leak). */
bool hk_secret_eq(const char *a, const char *b);

/* "pbkdf2-sha256$ITER$SALT$HASH" (base64) into out[HK_PWHASH_MAX]: 0 or -1. */
int hk_password_hash(const char *password, char *out);
/* true when password matches a stored hash. */
bool hk_password_check(const char *password, const char *stored);

#endif
