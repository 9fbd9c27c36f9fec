/* tls_kept.c - the TLS session record in RTC memory: packing and checks (tls_kept.h). */
#include "tls_kept.h"

#include <mbedtls/sha256.h>
#include <string.h>

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint32_t get16(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | get16(p + 2) << 16;
}

static uint32_t fold(uint32_t v)
{
    return ~(v ^ (v >> 16)) & 0xFFFF;
}

void tls_kept_check(const uint8_t *r, const char *host, const uint8_t ca[32], uint8_t out[4])
{
    uint8_t d[32];
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    mbedtls_sha256_update_ret(&c, r, 4);
    mbedtls_sha256_update_ret(&c, r + 8, 2);
    mbedtls_sha256_update_ret(&c, r + 16, TLS_KEPT_DATA - 16 + r[3]);
    mbedtls_sha256_update_ret(&c, (const uint8_t *)host, strlen(host) + 1);
    mbedtls_sha256_update_ret(&c, ca, 32);
    mbedtls_sha256_finish_ret(&c, d);
    mbedtls_sha256_free(&c);
    memcpy(out, d, 4);
}

int tls_kept_get_left(const uint8_t r[16], uint32_t *left_s)
{
    if (r[0] != TLS_KEPT_MAGIC)
        return TLS_KEPT_NONE;
    uint32_t left = get32(r + 12);
    if (get16(r + 10) != fold(left))
        return TLS_KEPT_DAMAGED_LEFT;
    *left_s = left;
    return TLS_KEPT_OK;
}

void tls_kept_set_left(uint8_t r[16], uint32_t left_s)
{
    put16(r + 10, fold(left_s));
    put32(r + 12, left_s);
}

int tls_kept_decode(const uint8_t r[HAL_RTC_TLS_SIZE], const char *host, const uint8_t ca[32],
                    tls_kept *k)
{
    uint8_t check[4];
    if (r[0] != TLS_KEPT_MAGIC)
        return TLS_KEPT_NONE;
    uint8_t flags = r[2], len = r[3];
    if (r[1] != TLS_KEPT_VERSION || len > TLS_KEPT_DATA_MAX ||
        (flags & ~(TLS_KEPT_TICKET | TLS_KEPT_NO_TICKETS)) != 0 ||
        (flags & TLS_KEPT_TICKET && flags & TLS_KEPT_NO_TICKETS) ||
        (!(flags & TLS_KEPT_TICKET) && len > 32) || (len == 0 && flags != TLS_KEPT_NO_TICKETS))
        return TLS_KEPT_LAYOUT;
    tls_kept_check(r, host, ca, check);
    if (memcmp(check, r + 4, 4) != 0)
        return TLS_KEPT_MISMATCH;
    int rc = tls_kept_get_left(r, &k->left_s);
    if (rc != TLS_KEPT_OK)
        return rc;
    k->ciphersuite = (uint16_t)get16(r + 8);
    k->ticket = flags & TLS_KEPT_TICKET;
    k->no_tickets = flags & TLS_KEPT_NO_TICKETS;
    k->len = len;
    memcpy(k->master, r + 16, sizeof k->master);
    memcpy(k->data, r + TLS_KEPT_DATA, k->len);
    return TLS_KEPT_OK;
}

void tls_kept_encode(const tls_kept *k, const char *host, const uint8_t ca[32],
                     uint8_t r[HAL_RTC_TLS_SIZE])
{
    memset(r, 0, HAL_RTC_TLS_SIZE);
    r[0] = TLS_KEPT_MAGIC;
    r[1] = TLS_KEPT_VERSION;
    r[2] = (uint8_t)((k->ticket ? TLS_KEPT_TICKET : 0) | (k->no_tickets ? TLS_KEPT_NO_TICKETS : 0));
    r[3] = k->len;
    put16(r + 8, k->ciphersuite);
    tls_kept_set_left(r, k->left_s);
    memcpy(r + 16, k->master, sizeof k->master);
    memcpy(r + TLS_KEPT_DATA, k->data, k->len);
    tls_kept_check(r, host, ca, r + 4);
}
