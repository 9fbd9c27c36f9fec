/*
 * scratch.h - the firmware's one large passing buffer, owned by the core and lent out.
 *
 * The webhook's answer (main.c's call_webhook), the set-up page's buffer (firmware/portal:
 * a request, config.py's text, the test press's answer, a scan) and the console's (an HTTP
 * command's answer, a scan, a file's bytes) are each ~2 KB and are never needed at the same
 * time: the set-up page runs inside run() before the press path starts and is over when
 * app_setup returns; the console runs after app_main() returns and holds nothing in it across
 * a command (a command that runs the app, `run` or `call_webhook`, uses none of it while the
 * app does). One buffer instead of three: 4,160 bytes of static RAM less on a board that
 * links all three, which is what lets the ESP8266's image hold the set-up page within its
 * 16 KB of data RAM (docs/esp8266.md). A user keeps nothing in it past its own run.
 */
#ifndef BH_APP_SCRATCH_H
#define BH_APP_SCRATCH_H

#include "bh_opts.h"
#include "hal/hal.h"
#include "net/http.h"

typedef union {
    http_response resp;                   /* an HTTP answer */
    hal_ap_info aps[BH_SCAN_MAX];         /* a scan's results */
    char text[sizeof(http_response)];     /* bytes: a request read, a file, config.py */
} app_scratch_buf;

extern app_scratch_buf app_scratch;

#endif
