/*
 * presses.h - the press queue (docs/press-queue.md): a press goes into a queue in RTC memory
 * (rtc_state.h) before anything is tried and leaves it only once the server answered it, so
 * a press that could not be sent goes out on the next wake, the next press's or a timed one's
 * (retry.h), in order, each with its own Idempotency-Key so that one whose reply was lost is
 * not fired twice. The queue also keeps how the wake ended, for the next one to tell.
 */
#ifndef BH_PRESSES_H
#define BH_PRESSES_H

#include <stdbool.h>
#include <stdint.h>

#include "app/presskind.h"
#include "app/rtc_state.h"

/* The presses not yet delivered; read by fw_begin(), saved here. */
extern press_queue presses;

/* The kind (PRESS_* in presskind.h) of the press send() is sending; single outside a round. */
extern int press_kind;

/* A press of kind (PRESS_*), kept at once: this wake's (press_wake() in presskind.c says
 * which kind, or none when the wake is the retry timer's). */
void presses_add(int kind);

/* Sends the kept presses, oldest first, with send(key): key is the press's Idempotency-Key,
 * press_kind its kind. One leaves the queue only when send() returned BH_OK; the first
 * failure ends the round and is returned. */
int presses_send(int (*send)(const char *key));

/* Keeps how the wake ended (err, and app_error's step and detail), arms the retry timer and
 * saves the queue, marked asleep unless the board stays awake (debug: the jumper is in).
 * Returns the timer in ms for hal_deep_sleep(); 0: none. */
uint32_t presses_end(int err, int retry_wake_s, bool debug);

#endif
