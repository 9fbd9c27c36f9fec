/*
 * wait.c - the one wait loop of a board running lwIP's raw API without an RTOS.
 *
 * lwIP with NO_SYS=1 moves only when someone calls it: frames in, timers (TCP retransmission,
 * DHCP, ARP), frames out from within those. The board contract's calls block with a timeout
 * (hal.h), so each of them waits in bhl_wait_step(): one turn of the stack (bhl_poll, given by
 * the board: received frames to lwIP, sys_check_timeouts(), the watchdog) and then the board's
 * idle (port_idle: WFI until the next tick). MicroPython's esp8266 port does the same in its
 * blocking calls (ets_loop_iter). Callbacks from lwIP only set state in the socket table;
 * nothing runs the application from inside the stack.
 */
#include "bhl.h"

#include <string.h>

#include "hal/hal.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip_port.h"

void bhl_init(void)
{
    static bool done;
    if (!done) {
        done = true;
        lwip_init();
    }
}

void bhl_wait_step(void)
{
    bhl_poll();
    port_idle();
}

/* lwIP's clock (timeouts.c) */
uint32_t sys_now(void)
{
    return hal_millis();
}

uint32_t bhl_rand(void)
{
    uint32_t r;
    hal_random(&r, sizeof r);
    return r;
}

void bhl_assert(const char *msg, const char *file, int line)
{
    char n[12];
    int i = (int)sizeof n;
    n[--i] = 0;
    do
        n[--i] = (char)('0' + line % 10);
    while ((line /= 10) && i > 0);
    hal_console_write("lwIP assertion failed: ", 23);
    hal_console_write(msg, strlen(msg));
    hal_console_write(" at ", 4);
    hal_console_write(file, strlen(file));
    hal_console_write(":", 1);
    hal_console_write(n + i, strlen(n + i));
    hal_console_write("\n", 1);
    hal_report("error", "lwip", BH_ERR_STATE, msg);
    hal_reset();
}
