/* test_retry.c - the retry timer (app/retry.c): RETRY_WAKE s, doubled up to an hour,
 * BH_RETRY_WAKES times while presses are kept, then none. */
#include <stdio.h>
#include <string.h>

#include "app/retry.h"
#include "bh_opts.h"
#include "testboard.h"

static void test_doubles_to_an_hour_then_stops(void)
{
    press_queue q;
    memset(&q, 0, sizeof q);
    q.count = 2;
    for (int i = 0; i < BH_RETRY_WAKES; i++) {
        uint32_t s = (uint32_t)60 << i;
        uint32_t want = (s > BH_RETRY_MAX_S ? BH_RETRY_MAX_S : s) * 1000u;
        CHECK_INT(retry_arm(&q, 60), want);
        CHECK_INT(q.armed_ms, want);   /* the next wake tells the timer by it */
        CHECK_INT(q.retries, i + 1);
    }
    CHECK_INT(retry_arm(&q, 60), 0);   /* used up: only a press retries */
    CHECK_INT(q.armed_ms, 0);
    CHECK_INT(q.retries, BH_RETRY_WAKES);
}

static void test_none_when_nothing_kept_or_off(void)
{
    press_queue q;
    memset(&q, 0, sizeof q);
    q.armed_ms = 60000;   /* the last sleep's */
    CHECK_INT(retry_arm(&q, 60), 0);
    CHECK_INT(q.armed_ms, 0);
    q.count = 1;
    CHECK_INT(retry_arm(&q, 0), 0);   /* RETRY_WAKE = 0 */
    CHECK_INT(q.retries, 0);
}

int main(void)
{
    test_doubles_to_an_hour_then_stops();
    test_none_when_nothing_kept_or_off();
    return tb_done("test_retry");
}
