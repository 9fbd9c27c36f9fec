/*
 * awake.h - the wake's time bound: whatever fails, the steps of a wake end AWAKE_MAX seconds
 * after config.py was read, less the blink and the way to sleep (BH_WAKE_END_MS), so a wake
 * that cannot succeed does not drain the battery. Every wait of a wake asks for its time here.
 */
#ifndef BH_AWAKE_H
#define BH_AWAKE_H

#include <stdint.h>

#include "app/config.h"

/* Starts the bound: awake_max_s from now (load_config()); the steps end BH_WAKE_END_MS and
 * after_ms (the LEDs' patterns beyond the error blink, feedback_ms()) before it. */
void awake_begin(int awake_max_s, uint32_t after_ms);

/* At most want_ms, and none past the bound. */
uint32_t awake_left(uint32_t want_ms);

/* The time a request may take, at most http_timeout_s: never 0, which would mean http.c's
 * default rather than none. */
uint32_t awake_http_ms(int http_timeout_s);

/* Waits for an address, at most timeout_ms within the bound: BH_OK, BH_ERR_NOLINK (the link
 * failed: *status says how) or BH_ERR_TIMEOUT. */
int awake_wait_link(uint32_t timeout_ms, int *status);

/* The chapter's "while not sta_if.isconnected(): time.sleep(1)" after wlan_connect(), but
 * bounded by WIFI_TIMEOUT and saying why it gave up (app_fail(PQ_AT_WIFI, ...)). */
int awake_wait_wifi(const bh_config *c);

#endif
