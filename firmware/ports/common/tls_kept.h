/*
 * tls_kept.h - the TLS session record that the port keeps in RTC memory across deep sleep
 * (HAL_RTC_TLS_OFF, HAL_RTC_TLS_SIZE bytes; docs/fast-wake.md). tls_mbedtls.c fills it from
 * an mbedTLS session and restores a session from it; this file only packs, checks and unpacks
 * the bytes, so that a fuzz target (fuzz/fuzz_tls_kept.c) can reach every path.
 *
 * Byte layout, little-endian:
 *    0  magic 'T'       1  version      2  flags (TLS_KEPT_*)    3  length of data[]
 *    4  check: the first 4 bytes of SHA-256 over bytes 0..3, 8..9 and 16..63+length, the
 *       host name (with its NUL) and a SHA-256 of the trusted CAs; so a record for another
 *       host, one kept before the CAs changed and a corrupt one all fail it alike
 *    8  cipher suite   10  check of left_s (its halves folded, inverted)
 *   12  left_s: seconds of lifetime left when the last deep sleep began (or when kept, for a
 *       session kept in this wake); counted down by the port across wakes and sleeps
 *   16  master secret (48)
 *   64  data[]: the session ticket (RFC 5077) or the session id, 1 to 192 bytes; none in a
 *       record that only says this server's tickets do not fit (TLS_KEPT_NO_TICKETS)
 *
 * left_s sits outside the keyed check so that the port can count it down before deep sleep
 * without knowing the host and CAs; its own check keeps a damaged value from being used.
 */
#ifndef BH_TLS_KEPT_H
#define BH_TLS_KEPT_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

#define TLS_KEPT_MAGIC 'T'
#define TLS_KEPT_VERSION 1
#define TLS_KEPT_TICKET 1               /* flags: data[] is a ticket, else a session id */
#define TLS_KEPT_NO_TICKETS 2           /* flags: this server's tickets are too big to keep:
                                           ask it for none, so that it gives a session id */
#define TLS_KEPT_DATA 64                /* offset of data[] */
#define TLS_KEPT_DATA_MAX (HAL_RTC_TLS_SIZE - TLS_KEPT_DATA)

typedef struct {
    uint16_t ciphersuite;
    bool ticket;
    bool no_tickets;
    uint8_t len;                        /* of data[], 1 to TLS_KEPT_DATA_MAX; 0 with
                                           no_tickets alone: no session, only the flag */
    uint8_t master[48];
    uint8_t data[TLS_KEPT_DATA_MAX];
    uint32_t left_s;
} tls_kept;

enum {
    TLS_KEPT_OK = 0,
    TLS_KEPT_NONE = 1,          /* nothing kept: power-on, or cleared */
    TLS_KEPT_LAYOUT = 2,        /* another version, or a length out of range */
    TLS_KEPT_MISMATCH = 3,      /* another host, other CAs, or corrupt */
    TLS_KEPT_DAMAGED_LEFT = 4   /* left_s fails its own check */
};

/* Unpacks r for host and the CAs whose SHA-256 is ca. TLS_KEPT_OK fills k. */
int tls_kept_decode(const uint8_t r[HAL_RTC_TLS_SIZE], const char *host, const uint8_t ca[32],
                    tls_kept *k);
/* Packs k (len as above) for host and ca into r; unused bytes are zero. */
void tls_kept_encode(const tls_kept *k, const char *host, const uint8_t ca[32],
                     uint8_t r[HAL_RTC_TLS_SIZE]);
/* The keyed check of r (which must have a valid length byte) into out. */
void tls_kept_check(const uint8_t *r, const char *host, const uint8_t ca[32], uint8_t out[4]);
/* left_s alone, from the first 16 bytes of a record: TLS_KEPT_OK, _NONE or _DAMAGED_LEFT. */
int tls_kept_get_left(const uint8_t r[16], uint32_t *left_s);
void tls_kept_set_left(uint8_t r[16], uint32_t left_s);

#endif
