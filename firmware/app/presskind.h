/*
 * presskind.h - single, double and long presses (docs/press-kinds.md). A double press is
 * RESET pressed again while the board is awake from a press: the chip restarts with a
 * HARD_RESET, and what the press queue keeps in RTC memory (press_queue.wake) says the board
 * was awake from a press. A long press needs the button wired to a GPIO too (BUTTON_PIN):
 * still held a second after the boot began. Each kind goes to its own event (DOUBLE_EVENT,
 * LONG_EVENT) and fills {press} in VALUE2 and VALUE3.
 */
#ifndef BH_PRESSKIND_H
#define BH_PRESSKIND_H

#include <stdbool.h>

#include "app/config.h"

/* The kinds, in press_queue.seq[]'s top bits; {press} (ph_press()) sends their names,
 * "single", "double", "long" */
enum { PRESS_SINGLE, PRESS_DOUBLE, PRESS_LONG };

/* This wake's press, from the reset cause and what RTC memory holds, kept in the queue (and
 * in RTC memory) before anything is tried: a deep-sleep wake that was not the retry timer
 * is a press (single, or long when BUTTON_PIN is held); RESET pressed while awake from a
 * single press makes it a double, or, once that press's POST has begun, is a press of its
 * own sent as a double; while awake from any other deep-sleep wake, a single press.
 * Returns true when the wake is to send what is kept: a deep-sleep wake, or a press. */
bool press_wake(const bh_config *c);

/* The URL for the press being sent (press_kind): WEBHOOK_URL, its event replaced by
 * DOUBLE_EVENT or LONG_EVENT when set. */
const char *press_url(const bh_config *c);

#endif
