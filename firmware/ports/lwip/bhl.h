/*
 * bhl.h - inside the lwIP glue: what its files share. Not for the portable firmware, which
 * sees only hal.h.
 */
#ifndef BH_BHL_H
#define BH_BHL_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/err.h"

/* lwip_init() once, before the first use of the stack (the glue calls it itself). */
void bhl_init(void);
/* One step of a wait: bhl_poll(), then the board's idle until something may have happened
 * (wait.c; the ESP8266 port runs the SDK's task queue instead). common.c has the rest. */
void bhl_wait_step(void);
/* ms since start, for wait loops: true once timeout_ms have passed */
bool bhl_expired(uint32_t start, uint32_t timeout_ms);
/* lwIP's error as the board contract's */
int bhl_err(err_t e);
/* Seconds left on the lease DHCP got (the offered lease less what was used of it). */
struct dhcp;
uint32_t bhl_lease_left(const struct dhcp *d);

#endif
