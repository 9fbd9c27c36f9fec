/*
 * log.h - hookd's log: one line per event on stderr, UTC timestamps.
 * Secrets never reach it whole: pass keys through hk_mask() first.
 */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

#include <stddef.h>

void hk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "abcd…": the first 4 characters of a secret and an ellipsis, into out (cap >= 16). An empty
 * or NULL secret gives "(none)". */
const char *hk_mask(const char *secret, char *out, size_t cap);

#endif
