/*
 * worker.h - the delivery workers: threads that take due deliveries from the store, run the
 * applet's action, record the attempt and schedule the next one (exponential backoff with
 * jitter) until it succeeds, fails for good, or runs out of attempts ("failed": a retry from
 * the API starts a new round). Deliveries are claimed in batches with a lease (store.h), so
 * that several hookd instances sharing one PostgreSQL never run one delivery at the same
 * time, and take over the deliveries of one that died.
 */
#ifndef HOOKD_WORKER_H
#define HOOKD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

typedef struct hk_workers hk_workers;

hk_workers *hk_workers_start(hk_store *s, const hk_config *cfg);
/* New deliveries may be due: wake a worker. */
void hk_workers_kick(hk_workers *w);
/* The same, from a trigger's group commit (the writer's thread, once per trigger): nothing
 * when the claim in flight began after that commit, as it sees those deliveries. */
void hk_workers_kick_stored(hk_workers *w);
/* Takes no more deliveries (those claimed and not started go back to pending) and waits up to
 * timeout_s for the running ones. true when all finished (w is freed); false when some still
 * run (w is left to the exiting process; their deliveries stay "running" in the store and run
 * again after the next start, or on another instance once their lease runs out). */
bool hk_workers_stop(hk_workers *w, unsigned timeout_s);

/* The delay before attempt tries + 1, tries >= 1: initial * 2^(tries-1), at most max, then
 * "equal jitter": a random point in its upper half. */
int64_t hk_backoff_ms(int tries, int64_t initial_ms, int64_t max_ms);

#endif
