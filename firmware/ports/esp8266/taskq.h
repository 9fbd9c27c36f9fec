/*
 * taskq.h - the port's replacement of the ROM's task scheduler (taskq.c, docs/esp8266.md):
 * the SDK's tasks post events into per-priority queues, and esp_loop_iter() runs them from
 * the firmware's waits. Plain C but for three ROM calls, so it is tested on the host too
 * (tests/unit/test_esp_taskq.c), where the SDK's types are declared as ets_sys.h has them.
 */
#ifndef BH_ESP_TASKQ_H
#define BH_ESP_TASKQ_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __ets__
#include "c_types.h"
#include "ets_sys.h"
#include "os_type.h"
#else
typedef uint32_t os_signal_t;
typedef uint32_t os_param_t;
typedef struct {
    os_signal_t sig;
    os_param_t par;
} os_event_t;
typedef void (*os_task_t)(os_event_t *e);
typedef uint8_t uint8;
#endif

/* Functions the SDK calls from interrupts must sit in IRAM: the flash cache may be off. */
#ifdef __ets__
#define BH_IRAM __attribute__((section(".iram.text")))
#else
#define BH_IRAM
#endif

/* The ROM's interface, which the SDK's libraries call (the ROM linker script only PROVIDEs
 * these names, so the port's definitions win). ets_post: 0 when posted, 1 when the queue is
 * full or the priority has no task. */
bool ets_task(os_task_t task, uint8 prio, os_event_t *queue, uint8 qlen);
uint8 ets_post(uint8 prio, os_signal_t sig, os_param_t par);
/* Runs one pending event of each task, highest priority first; true if any ran. Tasks run
 * with interrupts enabled, and may post, and may call esp_loop_iter() themselves (the
 * firmware waits inside the SDK's init-done callback). */
bool esp_loop_iter(void);

/* what taskq.c needs: the ROM's interrupt lock and the SDK's software watchdog */
extern void ets_intr_lock(void);
extern void ets_intr_unlock(void);
extern void system_soft_wdt_feed(void);

#endif
