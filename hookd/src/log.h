/*
 * log.h - hookd's log: one line per event on stderr, UTC timestamps.
 * Secrets never reach it whole: pass keys through hk_mask() first.
 */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

#include <stddef.h>

void hk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a message already made (len bytes, no newline): no printf on the way. */
void hk_log_text(const char *msg, size_t len);
/* The server's mode: lines are gathered and written every 10 ms in one write
 * (a thread does it), instead of one write per line. hk_log_stop writes what is left and
 * goes back to one write per line; call it before exiting. */
void hk_log_start(void);
void hk_log_stop(void);

/* A secret (the trigger key) that must never appear whole in the log: from now on every
 * occurrence of it in a line, wherever it came from (an event or applet named like the key,
 * a value), is written as hk_mask() writes it. The last two given are kept (a rotated key
 * stays masked). Secrets shorter than 8 characters are ignored (they would mask words). */
void hk_log_secret(const char *secret);

/* "abcd…": the first 4 characters of a secret and an ellipsis, into out (cap >= 16). An empty
 * or NULL secret gives "(none)". */
const char *hk_mask(const char *secret, char *out, size_t cap);

#endif
