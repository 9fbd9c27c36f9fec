/* presses.c - the press queue (presses.h). */
#include <stdio.h>

#include "app/app.h"
#include "app/apperr.h"
#include "app/presses.h"
#include "app/retry.h"

press_queue presses;
int press_kind;

void presses_add(int kind)
{
    if (presses.count == PQ_MAX)
        hal_report("info", "queue", BH_ERR_NOMEM, "queue full: oldest press dropped");
    pq_push(&presses);
    presses.seq[presses.count - 1] |= (uint32_t)kind << PQ_KIND_SHIFT;
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
        uint32_t s = presses.seq[0];
        /* MAC, the queue's random id, the press's number: "18fe34d37fa4-5d2c9a01-7" */
        snprintf(key + 12, sizeof key - 12, "-%08lx-%lu", (unsigned long)presses.boot_id,
                 (unsigned long)(s & PQ_SEQ_MASK));
        press_kind = (int)(s >> PQ_KIND_SHIFT) % 3;   /* 3 is no kind: single */
        /* this wake's own press: from now on a second press cannot make it a double, its
         * POST may reach the server (docs/press-kinds.md) */
        if (presses.count == 1 && presses.wake == PQ_WAKE_SINGLE) {
            presses.wake = PQ_WAKE_SENT;
            pq_save(&presses);
        }
        err = send(key);
        if (err == BH_OK) {
            pq_pop(&presses);
            presses.retries = 0;
            pq_save(&presses);
        }
    }
    press_kind = 0;
    return err;
}

uint32_t presses_end(int err, int retry_wake_s, bool debug)
{
    presses.wake = debug ? PQ_WAKE_NONE : PQ_WAKE_ASLEEP;
    presses.last_err = (int8_t)err;
    presses.last_where = (uint8_t)(err ? app_error.where : 0);
    presses.last_detail = (uint16_t)app_error.detail;
    uint32_t ms = retry_arm(&presses, retry_wake_s);
    pq_save(&presses);
    return ms;
}
