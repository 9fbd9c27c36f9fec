/* secret.c - see secret.h. */
#define _GNU_SOURCE
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#define PBKDF2_ITERATIONS 100000
#define SALT_LEN 16
#define HASH_LEN 32

int hk_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* base64url without padding */
static int b64url(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, in, n) != 0)
        return -1;
    while (olen > 0 && out[olen - 1] == '=')
        olen--;
    out[olen] = '\0';
    for (size_t i = 0; i < olen; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return 0;
}

int hk_key_new(char *out)
{
    unsigned char raw[16];
    char tmp[32];
    if (hk_random(raw, sizeof raw) != 0 || b64url(raw, sizeof raw, tmp, sizeof tmp) != 0)
        return -1;
    memcpy(out, tmp, HK_KEY_LEN + 1);
    return 0;
}

bool hk_key_valid(const char *key)
{
    size_t n = 0;
    for (const char *p = key; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return n >= 16 && n <= 128;
}

int hk_token_new(char *out)
{
    unsigned char raw[32];
    char tmp[64];
    if (hk_random(raw, sizeof raw) != 0 || b64url(raw, sizeof raw, tmp, sizeof tmp) != 0)
        return -1;
    memcpy(out, tmp, HK_TOKEN_LEN + 1);
    return 0;
}

bool hk_secret_eq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t n = strlen(a);
    if (strlen(b) != n)
        return false;
    return mbedtls_ct_memcmp(a, b, n) == 0;
}

static int pbkdf2(const char *pw, const unsigned char *salt, size_t slen, unsigned iter,
                  unsigned char *out)
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pw, strlen(pw), salt, slen,
                                       iter, HASH_LEN, out);
    mbedtls_md_free(&md);
    return rc == 0 ? 0 : -1;
}

int hk_password_hash(const char *password, char *out)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char s64[64], h64[64];
    size_t n;
    if (hk_random(salt, sizeof salt) != 0 ||
        pbkdf2(password, salt, sizeof salt, PBKDF2_ITERATIONS, hash) != 0 ||
        mbedtls_base64_encode((unsigned char *)s64, sizeof s64, &n, salt, sizeof salt) != 0 ||
        mbedtls_base64_encode((unsigned char *)h64, sizeof h64, &n, hash, sizeof hash) != 0)
        return -1;
    snprintf(out, HK_PWHASH_MAX, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, s64, h64);
    return 0;
}

bool hk_password_check(const char *password, const char *stored)
{
    char s64[64], h64[64];
    unsigned iter;
    if (!stored || sscanf(stored, "pbkdf2-sha256$%u$%63[^$]$%63s", &iter, s64, h64) != 3 ||
        iter == 0 || iter > 10000000)
        return false;
    unsigned char salt[64], want[64], got[HASH_LEN];
    size_t slen, wlen;
    if (mbedtls_base64_decode(salt, sizeof salt, &slen, (const unsigned char *)s64,
                              strlen(s64)) != 0 ||
        mbedtls_base64_decode(want, sizeof want, &wlen, (const unsigned char *)h64,
                              strlen(h64)) != 0 ||
        wlen != HASH_LEN)
        return false;
    if (pbkdf2(password, salt, slen, iter, got) != 0)
        return false;
    return mbedtls_ct_memcmp(got, want, HASH_LEN) == 0;
}
