/*
 * feedback.h - what the LEDs say besides the chapter's error blink (show_error() in main.c,
 * the two LEDs taking turns for 3 s). Each pattern is its own setting in config.py, off by
 * default, which keeps the chapter's behaviour (docs/config.md):
 *   SUCCESS_BLINK = 1     a wake that delivered its presses flashes both LEDs together,
 *                         twice (0.4 s);
 *   LOW_BATTERY_MV = mV   a press's or a retry's wake that reads the supply below this
 *                         (hal_supply_mv()) ends with LED_PIN's LED alone flashing three
 *                         times (0.6 s), after the success or error pattern.
 * The awake bound keeps the time for them: the error blink's (BH_WAKE_END_MS) and, with
 * LOW_BATTERY_MV set, the low-battery pattern's (feedback_ms()).
 */
#ifndef BH_FEEDBACK_H
#define BH_FEEDBACK_H

#include <stdbool.h>

#include "app/config.h"

#define FB_SUCCESS_MS 400
#define FB_LOW_BATTERY_MS 600

/* How much longer than the error blink the patterns after a wake's steps may take, for the
 * awake bound (awake_begin()): the low-battery pattern's time when it is set. */
uint32_t feedback_ms(const bh_config *c);

/* After a wake's steps: err, how they ended; pressed, whether the wake was a press or a
 * retry (press_wake()): the power-on boot and the console show nothing. */
void feedback_show(const bh_config *c, int err, bool pressed);

#endif
