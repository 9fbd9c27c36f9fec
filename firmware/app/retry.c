/* retry.c - the retry timer (retry.h). */
#include "app/retry.h"
#include "bh_opts.h"

uint32_t retry_arm(press_queue *q, int retry_wake_s)
{
    uint32_t s = 0;
    if (q->count && retry_wake_s && q->retries < BH_RETRY_WAKES) {
        s = (uint32_t)retry_wake_s << q->retries++;
        if (s > BH_RETRY_MAX_S)
            s = BH_RETRY_MAX_S;
    }
    return q->armed_ms = s * 1000u;
}
