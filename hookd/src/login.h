/*
 * login.h - what stands between a password guesser and the admin password:
 *
 * - growing delays: after `free_failures` wrong passwords from one address (IPv6: its /64),
 *   each further attempt from it must wait delay_ms, doubled with every failure, up to
 *   max_delay_s; the same count over all addresses (the one admin account) up to
 *   account_max_delay_s. Attempts inside a delay get 429 and Retry-After before any hashing.
 *   Counts are forgotten after forget_s without a failure, and an address's at its success.
 * - the account's delay never locks the admin out: an address that logged in successfully
 *   (the last 64 of them, kept until a restart) skips it, and it is capped low anyway.
 * - hashing (PBKDF2, tens of milliseconds) on a small pool of its own threads with a bounded
 *   queue, never on the HTTP threads that answer triggers; a full queue is 503.
 *
 * Each admitted attempt counts as a failure until its outcome is known, so parallel attempts
 * from one address cannot all slip through one window. State is per process (an instance
 * behind a balancer keeps its own).
 */
#ifndef HOOKD_LOGIN_H
#define HOOKD_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    unsigned free_failures;       /* failures before the delays start */
    unsigned delay_ms;            /* the first delay, doubled per further failure */
    unsigned max_delay_s;         /* one address's delay at most */
    unsigned account_max_delay_s; /* the account's delay at most */
    unsigned forget_s;            /* counts are forgotten after this long without a failure */
    unsigned hash_threads;        /* password hashes at once at most */
    unsigned queue;               /* hashes waiting for a thread at most */
} hk_login_cfg;

typedef struct hk_login hk_login;

typedef enum { HK_LOGIN_OK, HK_LOGIN_WRONG, HK_LOGIN_OTHER } hk_login_outcome;

hk_login *hk_login_new(const hk_login_cfg *cfg);
/* Runs the jobs queued, then stops the hash threads: later submits fail. */
void hk_login_stop(hk_login *l);
void hk_login_free(hk_login *l);   /* hk_login_stop, then frees */
/* May ip try a password now? true (the attempt is counted until hk_login_done), or false with
 * the seconds to wait and which limit it was ("address" or "account"). */
bool hk_login_admit(hk_login *l, const char *ip, int64_t now_ms, int *retry_after_s,
                    const char **which);
/* The outcome of an admitted attempt: OK clears ip's count and remembers ip; WRONG keeps the
 * counts; OTHER (no password set, a bad body) takes the attempt back. */
void hk_login_done(hk_login *l, const char *ip, hk_login_outcome o, int64_t now_ms);
/* Runs fn(arg) on a hash thread: 0, or -1 when the queue is full (nothing runs). */
int hk_login_submit(hk_login *l, void (*fn)(void *), void *arg);

#endif
