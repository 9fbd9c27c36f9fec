/*
 * taskq.c - the task scheduler the port puts in place of the ROM's (taskq.h).
 *
 * The NONOS SDK runs everything (Wi-Fi, timers, lwIP) as events posted to a few tasks by
 * priority; the ROM's ets_run() loops over them forever once user_init() returns. The
 * firmware instead blocks in its waits, so, as MicroPython's esp8266 port does, the port
 * keeps the queues itself and runs them whenever the firmware waits (esp_loop_iter, called
 * by every wait of the board contract) and in its own ets_run() when nothing else does.
 */
#include "taskq.h"

#define PRIOS 32

typedef struct {
    os_task_t task;
    os_event_t *queue;
    uint8_t len, head, count;
} esp_task;
static esp_task tasks[PRIOS];

bool ets_task(os_task_t task, uint8 prio, os_event_t *queue, uint8 qlen)
{
    if (prio >= PRIOS || !task || !queue || !qlen)
        return false;
    ets_intr_lock();
    tasks[prio] = (esp_task){.task = task, .queue = queue, .len = qlen};
    ets_intr_unlock();
    return true;
}

BH_IRAM uint8 ets_post(uint8 prio, os_signal_t sig, os_param_t par)
{
    if (prio >= PRIOS)
        return 1;
    ets_intr_lock();
    esp_task *t = &tasks[prio];
    if (!t->task || t->count >= t->len) {
        ets_intr_unlock();
        return 1;
    }
    unsigned i = (t->head + t->count) % t->len;
    t->queue[i].sig = sig;
    t->queue[i].par = par;
    t->count++;
    ets_intr_unlock();
    return 0;
}

bool esp_loop_iter(void)
{
    bool ran = false;
    for (int p = PRIOS - 1; p >= 0; p--) {
        esp_task *t = &tasks[p];
        ets_intr_lock();
        if (!t->count) {
            ets_intr_unlock();
            continue;
        }
        /* the event is copied out and its slot freed before the task runs, so the task may
         * post (its own queue included) and may run this loop again from inside */
        os_event_t e = t->queue[t->head];
        t->head = (uint8_t)((t->head + 1u) % t->len);
        t->count--;
        os_task_t run = t->task;
        ets_intr_unlock();
        run(&e);
        ran = true;
    }
    system_soft_wdt_feed();
    return ran;
}
