/*
 * retry.h - the retry timer (docs/press-queue.md): while presses are kept, the board wakes by
 * itself to send them, RETRY_WAKE s after a failed wake, doubled each time up to an hour,
 * BH_RETRY_WAKES times; then only a press retries, so an unreachable server does not drain
 * the battery.
 */
#ifndef BH_RETRY_H
#define BH_RETRY_H

#include <stdint.h>

#include "app/rtc_state.h"

/* The next sleep's timer in ms for the queue q (0: none: nothing kept, RETRY_WAKE = 0, or
 * the timed wakes are used up), counted in q->retries and kept in q->armed_ms, by which the
 * next wake tells the timer from a press (press_wake() in presskind.c). */
uint32_t retry_arm(press_queue *q, int retry_wake_s);

#endif
