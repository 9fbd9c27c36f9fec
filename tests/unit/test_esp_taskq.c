/* test_esp_taskq.c - the ESP8266 port's task scheduler (firmware/ports/esp8266/taskq.c), which
 * stands in for the ROM's: the SDK's Wi-Fi, timers and lwIP are events in its queues, and the
 * firmware's waits run them. What a user would notice if it were wrong: a board that hangs
 * or drops Wi-Fi events (a lost, reordered or repeated event), or one that crashes when an
 * interrupt posts while a task runs. Built here with the ROM's three calls faked. */
#include <stdio.h>
#include <string.h>

#include "../../firmware/ports/esp8266/taskq.c"
#include "testboard.h"

static int lock_depth, lock_max, feeds, ran_locked;

void ets_intr_lock(void)
{
    if (++lock_depth > lock_max)
        lock_max = lock_depth;
}
void ets_intr_unlock(void)
{
    lock_depth--;
}
void system_soft_wdt_feed(void)
{
    feeds++;
}

/* what the tasks saw, in order: "prio:sig:par" */
static char seen[512];
static void note(int prio, const os_event_t *e)
{
    char one[32];
    snprintf(one, sizeof one, "%d:%u:%u ", prio, (unsigned)e->sig, (unsigned)e->par);
    strncat(seen, one, sizeof seen - strlen(seen) - 1);
    if (lock_depth)
        ran_locked++;
}

static os_event_t q5[3], q9[2], q20[4], q31[8];
static void task5(os_event_t *e) { note(5, e); }
static void task9(os_event_t *e) { note(9, e); }
static void task31(os_event_t *e) { note(31, e); }
/* a task that posts to itself once: the event must come back in a later turn */
static void task20(os_event_t *e)
{
    note(20, e);
    if (e->sig == 1)
        CHECK_INT(ets_post(20, 2, e->par + 1), 0);
}

static void reset(void)
{
    memset(tasks, 0, sizeof tasks);
    seen[0] = 0;
    lock_depth = lock_max = feeds = ran_locked = 0;
}

static void posting(void)
{
    reset();
    CHECK_INT(ets_post(5, 1, 1), 1);               /* no task at this priority yet */
    CHECK(!ets_task(task5, 32, q5, 3));             /* out of range */
    CHECK(!ets_task(task5, 5, q5, 0));
    CHECK(ets_task(task5, 5, q5, 3));
    CHECK_INT(ets_post(32, 1, 1), 1);
    CHECK_INT(ets_post(5, 1, 10), 0);
    CHECK_INT(ets_post(5, 2, 20), 0);
    CHECK_INT(ets_post(5, 3, 30), 0);
    CHECK_INT(ets_post(5, 4, 40), 1);               /* full: refused, nothing overwritten */
    CHECK(esp_loop_iter());
    CHECK(esp_loop_iter());
    CHECK(esp_loop_iter());
    CHECK(!esp_loop_iter());                        /* idle */
    CHECK_STR(seen, "5:1:10 5:2:20 5:3:30 ");
    CHECK_INT(lock_depth, 0);
    CHECK_INT(ran_locked, 0);                       /* tasks run with interrupts on */
    CHECK(feeds >= 4);                              /* the software watchdog fed each turn */
}

/* one event per task per turn, highest priority first; the ring wraps many times */
static void order_and_wrap(void)
{
    reset();
    CHECK(ets_task(task5, 5, q5, 3));
    CHECK(ets_task(task9, 9, q9, 2));
    CHECK(ets_task(task31, 31, q31, 8));
    CHECK_INT(ets_post(5, 1, 1), 0);
    CHECK_INT(ets_post(5, 2, 2), 0);
    CHECK_INT(ets_post(9, 1, 1), 0);
    CHECK_INT(ets_post(31, 1, 1), 0);
    CHECK(esp_loop_iter());
    CHECK_STR(seen, "31:1:1 9:1:1 5:1:1 ");
    CHECK(esp_loop_iter());
    CHECK_STR(seen, "31:1:1 9:1:1 5:1:1 5:2:2 ");
    for (unsigned i = 0; i < 100; i++) {            /* 50 times round the 2-slot ring */
        seen[0] = 0;
        CHECK_INT(ets_post(9, i, i * 3), 0);
        CHECK(esp_loop_iter());
        char want[32];
        snprintf(want, sizeof want, "9:%u:%u ", i, i * 3);
        CHECK_STR(seen, want);
    }
}

/* a task may post to its own queue, even when the queue was full before it ran */
static void self_post(void)
{
    reset();
    CHECK(ets_task(task20, 20, q20, 4));
    for (int i = 0; i < 4; i++)
        CHECK_INT(ets_post(20, 1, (os_param_t)(i * 10)), 0);
    for (int i = 0; i < 8; i++)
        CHECK(esp_loop_iter());
    CHECK(!esp_loop_iter());
    CHECK_STR(seen, "20:1:0 20:1:10 20:1:20 20:1:30 20:2:1 20:2:11 20:2:21 20:2:31 ");
}

/* the firmware waits inside a task (the SDK's init-done callback): the loop runs again from
 * inside it, and every other event still runs once */
static int inner_waits;
static void app_task(os_event_t *e)
{
    note(9, e);
    while (inner_waits-- > 0)
        esp_loop_iter();
}

static void nested(void)
{
    reset();
    CHECK(ets_task(app_task, 9, q9, 2));
    CHECK(ets_task(task5, 5, q5, 3));
    CHECK(ets_task(task31, 31, q31, 8));
    CHECK_INT(ets_post(9, 7, 7), 0);
    CHECK_INT(ets_post(5, 1, 1), 0);
    CHECK_INT(ets_post(5, 2, 2), 0);
    CHECK_INT(ets_post(31, 3, 3), 0);
    inner_waits = 3;
    CHECK(esp_loop_iter());
    CHECK_STR(seen, "31:3:3 9:7:7 5:1:1 5:2:2 ");
    CHECK(!esp_loop_iter());
    CHECK_INT(lock_depth, 0);
    CHECK_INT(lock_max, 1);                         /* never nested: no task ran locked */
}

int main(void)
{
    tb_reset();
    posting();
    order_and_wrap();
    self_post();
    nested();
    return tb_done("test_esp_taskq");
}
