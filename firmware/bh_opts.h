/*
 * bh_opts.h - every tunable of the portable firmware, in one place (as lwIP's opt.h).
 * A port or a build overrides one with -DNAME=value; every buffer that network or file input
 * can fill is sized here, statically, and never grows.
 */
#ifndef BH_OPTS_H
#define BH_OPTS_H

/* config.py */
#ifndef BH_CFG_FILE_MAX
#define BH_CFG_FILE_MAX 1536        /* bytes of config.py read (the chapter's is ~300) */
#endif
#ifndef BH_CFG_STR_MAX
#define BH_CFG_STR_MAX 128          /* longest string value, NUL included */
#endif
#ifndef BH_CFG_NAME_MAX
#define BH_CFG_NAME_MAX 32          /* longest flash file name in a setting, NUL included */
#endif

/* URLs and HTTP */
#ifndef BH_URL_MAX
#define BH_URL_MAX 256              /* longest URL, NUL included */
#endif
#ifndef BH_HOST_MAX
#define BH_HOST_MAX 96              /* longest host name, NUL included */
#endif
#ifndef BH_HTTP_REQ_MAX
#define BH_HTTP_REQ_MAX 1024        /* request line + headers + body sent */
#endif
#ifndef BH_HTTP_HDR_MAX
#define BH_HTTP_HDR_MAX 1024        /* response status line + headers kept */
#endif
#ifndef BH_HTTP_BODY_MAX
#define BH_HTTP_BODY_MAX 512        /* response body kept (IFTTT answers 54 bytes); more is BH_ERR_TOOBIG */
#endif
#ifndef BH_HTTP_ERR_MAX
#define BH_HTTP_ERR_MAX 192         /* http_response.error: "METHOD URL: step: what" */
#endif
#ifndef BH_HTTP_MAX_REDIRECTS
#define BH_HTTP_MAX_REDIRECTS 5
#endif
#ifndef BH_HTTP_CONNECT_TIMEOUT_MS
#define BH_HTTP_CONNECT_TIMEOUT_MS 5000
#endif
#ifndef BH_HTTP_TOTAL_TIMEOUT_MS
#define BH_HTTP_TOTAL_TIMEOUT_MS 10000
#endif

/* Wi-Fi */
#ifndef BH_WIFI_TIMEOUT_MS
#define BH_WIFI_TIMEOUT_MS 15000    /* connect_wifi() gives up after this */
#endif
#ifndef BH_WLAN_FILE
#define BH_WLAN_FILE "wlan.cfg"     /* flash file keeping Wi-Fi credentials and modes */
#endif
#ifndef BH_FAST_JOIN_TIMEOUT_MS
#define BH_FAST_JOIN_TIMEOUT_MS 3000 /* a join to the saved AP (no scan) gives up after this */
#endif
#ifndef BH_SCAN_MAX
#define BH_SCAN_MAX 16              /* access points kept from one scan */
#endif

/* The wake and the press queue (docs/press-queue.md) */
#ifndef BH_WAKE_END_MS
#define BH_WAKE_END_MS 3500         /* the steps of a wake end this long before AWAKE_MAX: the
                                       error blink (3 s) and the way into deep sleep (and the
                                       low-battery pattern when set: feedback_ms()) */
#endif
#ifndef BH_RETRY_WAKES
#define BH_RETRY_WAKES 10           /* timed retry wakes after a failed press, then only presses */
#endif
#ifndef BH_RETRY_MAX_S
#define BH_RETRY_MAX_S 3600         /* the longest retry sleep (the ESP8266's timer: ~71 min) */
#endif

/* Press kinds (docs/press-kinds.md) */
#ifndef BH_LONG_PRESS_MS
#define BH_LONG_PRESS_MS 1000       /* BUTTON_PIN still held this long after the boot: long */
#endif
#ifndef BH_EVENT_MAX
#define BH_EVENT_MAX 33             /* DOUBLE_EVENT, LONG_EVENT: an event name, NUL included */
#endif

/* Console output */
#ifndef BH_PRINT_MAX
#define BH_PRINT_MAX 256            /* one formatted console line */
#endif

/* The console and WebREPL (firmware/console/) */
#ifndef BH_CON_LINE_MAX
#define BH_CON_LINE_MAX 256         /* one console command line, NUL included */
#endif
#ifndef BH_CON_ECHO_CHARS
#define BH_CON_ECHO_CHARS 0         /* 1: echo each typed character on the serial port (a
                                       terminal program); 0: echo the line when it ends */
#endif
#ifndef BH_WEBREPL_PORT
#define BH_WEBREPL_PORT 8266
#endif
#ifndef BH_WEBREPL_FILE
#define BH_WEBREPL_FILE "webrepl_cfg.py" /* flash file: the password and start-on-boot flag */
#endif
#ifndef BH_WS_FRAME_MAX
#define BH_WS_FRAME_MAX 4096        /* largest WebSocket frame accepted (clients send 1 KB) */
#endif
#ifndef BH_WS_HANDSHAKE_MAX
#define BH_WS_HANDSHAKE_MAX 1024    /* HTTP request of the WebSocket handshake */
#endif
#ifndef BH_WEBREPL_IDLE_MS
#define BH_WEBREPL_IDLE_MS 300000   /* a session that sends nothing for this long is closed */
#endif
#ifndef BH_WEBREPL_LOGIN_MS
#define BH_WEBREPL_LOGIN_MS 30000   /* handshake and password must arrive within this */
#endif

/* The set-up page (firmware/portal/, docs/portal.md) */
#ifndef BH_PORTAL_PORT
#define BH_PORTAL_PORT 80
#endif
#ifndef BH_PORTAL_REQ_MAX
#define BH_PORTAL_REQ_MAX 2048      /* request head + form body (a browser's head is ~700 B) */
#endif
#ifndef BH_PORTAL_IDLE_MS
#define BH_PORTAL_IDLE_MS 600000    /* no request for this long: the AP goes off, the board on */
#endif
#ifndef BH_PORTAL_APS
#define BH_PORTAL_APS 12            /* networks listed from one scan */
#endif

#endif
