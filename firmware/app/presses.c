/* presses.c - the press queue (presses.h). */
#include <stdio.h>

#include "app/app.h"
#include "app/apperr.h"
#include "app/presses.h"
#include "app/retry.h"

press_queue presses;

/* A timed retry wake is also a DEEPSLEEP_RESET through the RST pin on an ESP8266, so it is
 * told apart by its length: a sleep that lasted as long as the timer was set for (less 1/32
 * for the clock's drift) was the timer. */
void presses_add(void)
{
    uint32_t ms, armed = presses.armed_ms;
    if (armed && hal_slept_ms(&ms) == BH_OK && ms >= armed - armed / 32) {
        bh_printf("Retry wake: %d kept\n", presses.count);
        return;
    }
    if (presses.count == PQ_MAX)
        hal_report("info", "queue", BH_ERR_NOMEM, "queue full: oldest press dropped");
    pq_push(&presses);
    presses.retries = 0;
    pq_save(&presses);
}

/* The queue is saved (to RTC memory) as each press leaves it. Whatever failed, the press is
 * retried: every byte of the request comes from config.py, so a 4xx is a config.py to fix,
 * not a bad press; the rest keep their order for the next wake. */
int presses_send(int (*send)(const char *key))
{
    char key[40];
    uint8_t m[6];
    int err = BH_OK;
    hal_radio_mac(m);
    for (int i = 0; i < 6; i++)
        snprintf(key + 2 * i, 3, "%02x", m[i]);
    while (presses.count && err == BH_OK) {
        /* MAC, the queue's random id, the press's number: "18fe34d37fa4-5d2c9a01-7" */
        snprintf(key + 12, sizeof key - 12, "-%08lx-%lu", (unsigned long)presses.boot_id,
                 (unsigned long)presses.seq[0]);
        err = send(key);
        if (err == BH_OK) {
            pq_pop(&presses);
            presses.retries = 0;
            pq_save(&presses);
        }
    }
    return err;
}

uint32_t presses_end(int err, int retry_wake_s)
{
    presses.last_err = (int8_t)err;
    presses.last_where = (uint8_t)(err ? app_error.where : 0);
    presses.last_detail = (uint16_t)app_error.detail;
    uint32_t ms = retry_arm(&presses, retry_wake_s);
    pq_save(&presses);
    return ms;
}
