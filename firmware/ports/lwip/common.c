/*
 * common.c - the glue's helpers that do not depend on which lwIP a board has: lwIP 2.1 on the
 * bare-metal boards, the ESP8266 SDK's lwIP 1.4. Each board gives bhl_wait_step() (wait.c for
 * the boards that run lwIP themselves, the SDK's task queue on the ESP8266).
 */
#include "bhl.h"

#include "hal/hal.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"

bool bhl_expired(uint32_t start, uint32_t timeout_ms)
{
    return hal_millis() - start >= timeout_ms;
}

void hal_delay_ms(uint32_t ms)
{
    uint32_t start = hal_millis();
    do
        bhl_wait_step();
    while (!bhl_expired(start, ms));
}

int bhl_err(err_t e)
{
    switch (e) {
    case ERR_OK: return BH_OK;
    case ERR_MEM: case ERR_BUF: return BH_ERR_NOMEM;
    case ERR_TIMEOUT: return BH_ERR_TIMEOUT;
    case ERR_RTE: return BH_ERR_UNREACH;
    case ERR_RST: case ERR_ABRT: case ERR_CLSD: return BH_ERR_RESET;
    case ERR_CONN: return BH_ERR_NOLINK;
    case ERR_USE: case ERR_ISCONN: case ERR_INPROGRESS: return BH_ERR_STATE;
#if LWIP_VERSION_MAJOR >= 2
    case ERR_ALREADY: return BH_ERR_STATE;   /* not in lwIP 1.4 */
#endif
    case ERR_ARG: case ERR_VAL: return BH_ERR_ARG;
    default: return BH_ERR_IO;
    }
}

uint32_t bhl_lease_left(const struct dhcp *d)
{
    uint32_t used = (uint32_t)d->lease_used * DHCP_COARSE_TIMER_SECS;
    return d->offered_t0_lease > used ? d->offered_t0_lease - used : 0;
}
