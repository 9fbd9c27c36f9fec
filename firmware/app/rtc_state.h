/*
 * rtc_state.h - what the button keeps in RTC memory across deep sleep (docs/fast-wake.md).
 *
 * One fixed-size record at offset 0 of the 492 bytes of RTC memory, with a magic, a layout
 * version, its length and a CRC-32 over everything else. rtc_load() ignores, never trusts, a
 * record that fails any of these (power-on leaves RTC memory empty; another firmware version
 * leaves another layout): the wake then takes the full path, as the chapter's button does.
 * The record is native-endian: only this firmware on this chip reads it back. Its size is a
 * multiple of 4, as the ESP8266's RTC memory is read and written in 32-bit words.
 *
 * RTC memory (492 bytes):  0..63 rtc_state | 64..235 press_queue | 236..491 the TLS session
 *
 * The press queue (docs/press-queue.md) is a second record of the same kind: the presses not
 * yet delivered, oldest first, each with its number; the id that makes each press's
 * Idempotency-Key unique across power cycles; and how the last wake ended, for the next one
 * to report. It is kept whatever FAST_WAKE says: a press is never lost to a failed request.
 *
 * Times are seconds on the board's own clock (clock_s): awake time plus deep sleep as the
 * board measured it (hal_slept_ms), rounded up, so an entry expires early rather than late.
 */
#ifndef BH_RTC_STATE_H
#define BH_RTC_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

#define RTC_STATE_MAGIC 0x54524842u   /* "BHRT" */
#define RTC_STATE_VERSION 1

typedef struct {
    uint32_t magic;
    uint16_t version;
    uint16_t size;              /* sizeof(rtc_state) */
    uint32_t clock_s;           /* the board clock when saved */
    /* the access point of the last good join */
    uint32_t wifi_key;          /* rtc_hash(ssid, password) it was made with; 0: none */
    uint8_t bssid[6];
    uint8_t channel;            /* 0: no AP kept */
    uint8_t pad;
    /* the DHCP lease of that join, used as a static address until lease_until_s */
    hal_ipcfg lease;
    uint32_t lease_until_s;     /* 0: no lease kept */
    /* one DNS answer, kept for its TTL */
    uint32_t dns_host;          /* rtc_hash(host name); 0: none */
    uint32_t dns_ip;
    uint32_t dns_until_s;
    uint32_t crc;               /* CRC-32 of every byte before it */
} rtc_state;

_Static_assert(sizeof(rtc_state) % 4 == 0, "RTC memory is word-addressed");
_Static_assert(sizeof(rtc_state) == 64, "the press queue starts at offset 64");

#define PQ_MAGIC 0x51504842u   /* "BHPQ" */
#define PQ_VERSION 2            /* 2: the press's kind in seq[], the wake marker */
#define PQ_OFFSET 64
#define PQ_MAX 34               /* presses kept; when full the oldest is dropped */
/* seq[]: a press's number in the low 30 bits (numbers wrap there), its kind (PRESS_* in
 * presskind.h) in the top 2 */
#define PQ_KIND_SHIFT 30
#define PQ_SEQ_MASK 0x3FFFFFFFu

/* press_queue.wake: what the board was doing, for a RESET pressed while it is awake (a
 * HARD_RESET) to be told apart (docs/press-kinds.md) */
enum {
    PQ_WAKE_NONE,     /* awake, not from deep sleep: power-on, the debug jumper's idle */
    PQ_WAKE_ASLEEP,   /* set as the board goes to deep sleep */
    PQ_WAKE_SINGLE,   /* awake from a single press, the newest kept, its POST not begun */
    PQ_WAKE_SENT,     /* the same once that POST has begun (or it was delivered) */
    PQ_WAKE_OTHER     /* awake from a retry timer, a double or a long press */
};

/* where the last wake failed (press_queue.last_where) */
enum { PQ_AT_NONE, PQ_AT_CONFIG, PQ_AT_WIFI, PQ_AT_WEBHOOK };

typedef struct {
    uint32_t magic;
    uint16_t version;
    uint16_t size;              /* sizeof(press_queue) */
    uint32_t boot_id;           /* random, drawn when the queue started (power-on, or a
                                   corrupt queue): part of every press's id */
    uint32_t next_seq;          /* the next press's number */
    uint32_t armed_ms;          /* the retry timer of the last deep sleep; 0: none */
    uint32_t dropped;           /* presses dropped since boot_id: queue full, or refused (4xx) */
    int8_t last_err;            /* how the last wake ended: 0 or a bh_err */
    uint8_t last_where;         /* PQ_AT_* */
    uint16_t last_detail;       /* its link status, or the HTTP status that refused a press */
    uint8_t count;              /* presses in seq[] */
    uint8_t retries;            /* timed wakes since presses last went out */
    uint8_t wake;               /* PQ_WAKE_* */
    uint8_t pad;
    uint32_t seq[PQ_MAX];       /* the presses kept, oldest first: number | kind << 30 */
    uint32_t crc;               /* CRC-32 of every byte before it */
} press_queue;

_Static_assert(PQ_OFFSET + sizeof(press_queue) == HAL_RTC_TLS_OFF, "the TLS session follows");

/* Reads the record into st. Returns BH_OK, or BH_ERR_NOENT (empty: power-on) or BH_ERR_PROTO
 * (corrupt or another version), with st cleared (magic, version and size set). */
int rtc_load(rtc_state *st);
/* Sets magic, version, size and crc, then writes st. */
int rtc_save(rtc_state *st);
/* The same for the press queue: a queue that is empty (power-on), corrupt or of another
 * version is started afresh, with a new random boot_id (BH_ERR_NOENT, BH_ERR_PROTO). */
int pq_load(press_queue *q);
int pq_save(press_queue *q);
/* Appends press number next_seq (of kind 0, single); when full, drops the oldest first (and
 * counts it). */
void pq_push(press_queue *q);
/* Removes the oldest press. */
void pq_pop(press_queue *q);

/* CRC-32 (IEEE 802.3, reflected) of n bytes. */
uint32_t rtc_crc32(const void *p, uint32_t n);
/* FNV-1a of a and, after a NUL, b (b may be NULL); never 0. */
uint32_t rtc_hash(const char *a, const char *b);

#endif
