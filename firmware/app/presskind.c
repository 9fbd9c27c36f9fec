/* presskind.c - single, double and long presses (presskind.h). */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/fastwake.h"
#include "app/placeholders.h"
#include "app/presses.h"
#include "app/presskind.h"

/* {press}: the kind of the press being sent; "single" from the console (no press) */
int ph_press(char *out, size_t cap)
{
    return snprintf(out, cap, "%s", press_kind == PRESS_DOUBLE ? "double"
                                    : press_kind == PRESS_LONG ? "long" : "single");
}

/* Still held BH_LONG_PRESS_MS after the boot began (the press began before it): a long press.
 * The button pulls the pin to GND against the pull-up. While it is held the station's
 * auto-connect at boot (wlan_init(), as the SDK's) would have the second to scan and ask
 * DHCP, the full join's 2.4 s of modeled radio more; with an AP kept, it is stopped, and
 * connect_wifi() joins the fast way once the kind is known (docs/press-kinds.md). */
static bool held(const bh_config *c)
{
    if (!cfg_has(c, BUTTON_PIN))
        return false;
    hal_pin_mode(c->button_pin, HAL_PIN_IN, HAL_PULL_UP);
    if (hal_pin_read(c->button_pin) == 0 && c->fast_wake && fw_rtc.channel)
        hal_radio_leave();
    while (hal_pin_read(c->button_pin) == 0) {
        if (hal_millis() >= BH_LONG_PRESS_MS)
            return true;
        hal_delay_ms(10);
    }
    return false;
}

/* The newest press kept becomes kind, in RTC memory at once. */
static void retype(int kind)
{
    uint32_t *s = &presses.seq[presses.count - 1];
    *s = (*s & PQ_SEQ_MASK) | (uint32_t)kind << PQ_KIND_SHIFT;
    pq_save(&presses);
}

/* A timed retry wake is also a DEEPSLEEP_RESET through the RST pin on an ESP8266, so it is
 * told apart by its length: a sleep that lasted as long as the timer was set for (less 1/32
 * for the clock's drift) was the timer. */
bool press_wake(const bh_config *c)
{
    uint32_t ms, armed = presses.armed_ms;
    int was = presses.wake, cause = hal_reset_cause(), kind = PRESS_DOUBLE;
    presses.wake = PQ_WAKE_OTHER;
    if (cause == HAL_RESET_DEEPSLEEP) {
        if (armed && hal_slept_ms(&ms) == BH_OK && ms >= armed - armed / 32) {
            bh_printf("Retry wake: %d kept\n", presses.count);
            return true;   /* RTC memory still says ASLEEP, armed: a RESET now is a single */
        }
        kind = PRESS_SINGLE;
    } else if (cause != HAL_RESET_HARD || was < PQ_WAKE_ASLEEP) {
        /* power-on, a crash, the watchdog, RESET while idle: no press, as in the chapter */
        presses.wake = PQ_WAKE_NONE;
        pq_save(&presses);
        return false;
    } else if (was == PQ_WAKE_SINGLE && presses.count) {
        retype(kind);   /* its POST has not begun: the one press becomes a double */
        kind = -1;
    } else if (was != PQ_WAKE_SENT && (was != PQ_WAKE_ASLEEP || armed)) {
        kind = PRESS_SINGLE;   /* awake from a timer, a double or a long press */
    }
    /* else the first press already left (it cannot be called back), or its wake was cut
     * before it kept it (a sleep until RESET ends only by a press): this press is the double */
    if (kind == PRESS_SINGLE)
        presses.wake = PQ_WAKE_SINGLE;
    if (kind >= 0)
        presses_add(kind);   /* saved: kept before anything is tried */
    if (kind == PRESS_SINGLE && held(c)) {
        presses.wake = PQ_WAKE_OTHER;
        retype(kind = PRESS_LONG);
    }
    if (kind)
        bh_printf("%s press\n", kind == PRESS_LONG ? "Long" : "Double");
    return true;
}

const char *press_url(const bh_config *c)
{
    static char url[BH_URL_MAX + BH_EVENT_MAX];
    const char *u = c->webhook_url, *ev = press_kind == PRESS_DOUBLE ? c->double_event
                                         : press_kind == PRESS_LONG ? c->long_event : "";
    const char *at = strstr(u, "/trigger/");
    if (!*ev || !at)
        return u;   /* config.c refuses an event setting without /trigger/ in the URL */
    at += 9;
    snprintf(url, sizeof url, "%.*s%s%s", (int)(at - u), u, ev, at + strcspn(at, "/?#"));
    return url;
}
