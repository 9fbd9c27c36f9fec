/*
 * testboard.h - a board for unit tests: implements every function of hal.h in memory, with a
 * fake clock that only moves when the firmware waits (hal_delay_ms, timeouts), a scripted
 * radio and scripted TCP peers. Call tb_reset() at the start of each test.
 */
#ifndef BH_TESTBOARD_H
#define BH_TESTBOARD_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

#define TB_MAX_APS 8
#define TB_MAX_PEERS 8
#define TB_MAX_FILES 16
#define TB_MAX_PINLOG 64
#define TB_IO_MAX 8192

/* Clock */
extern uint32_t tb_now_ms;                     /* fake time since boot */

/* Board */
extern hal_reset_cause_t tb_reset_cause;
extern int tb_pin_input[17];                   /* level read from an input pin (default 1) */
extern uint32_t tb_pin_release_ms[17];         /* nonzero: the input reads 1 from this time on
                                                  (a button held, then let go) */
extern int tb_pin_out[17];                     /* last level written (-1 never written) */
typedef struct { uint32_t t; int gpio; int value; } tb_pin_event;
extern tb_pin_event tb_pinlog[TB_MAX_PINLOG];  /* every hal_pin_write, with its time */
extern int tb_npinlog;
extern uint8_t tb_rtc[HAL_RTC_SIZE];
extern int64_t tb_slept_for_ms;                /* hal_slept_ms(); -1 (default): unknown */
extern int tb_supply_mv;                      /* hal_supply_mv() (default 3300); -1: unsupported */
extern uint32_t tb_random_seed;                /* hal_random()'s sequence, from tb_reset() */

/* hal_deep_sleep() and hal_reset() jump back here: run the firmware as
 *   if (setjmp(tb_exit) == 0) app_main();  then check tb_slept / tb_sleep_ms / tb_soft_reset. */
extern jmp_buf tb_exit;
extern int tb_slept, tb_soft_reset;
extern uint32_t tb_sleep_ms;

/* Console: everything written, NUL-terminated; and input to read. */
extern char tb_console[TB_IO_MAX];
extern size_t tb_console_len;
void tb_console_input(const char *s);

/* Flash */
int tb_fs_put(const char *name, const char *text);   /* create a file */
const char *tb_fs_get(const char *name);             /* file content, NULL if absent */
extern size_t tb_fs_capacity;                        /* total flash bytes (default 64 KB) */

/* Radio: access points in range. join_ms of fake time passes before GOT_IP. */
int tb_add_ap(const char *ssid, const char *password, uint8_t channel, int8_t rssi,
              uint8_t authmode, int hidden);
extern uint32_t tb_join_ms;                    /* default 1000 */
extern int tb_join_fail;                       /* nonzero: join ends in CONNECT_FAIL */
extern int tb_scans, tb_joins;                 /* counts of radio steps taken */
extern hal_ipcfg tb_lease;                     /* what DHCP hands out */
extern int tb_ap_active, tb_sta_active;
/* the last hal_radio_join: whether it named a BSSID, its channel, a static address */
extern int tb_join_bssid, tb_join_channel, tb_join_static;
void tb_ap_set_channel(int ap, uint8_t channel);  /* the AP moves (ap: tb_add_ap's result) */

/* Network: names, and scripted peers. Each hal_tcp_connect to ip:port takes the next unused
 * peer script with that address, in the order they were added. */
int tb_dns_add(const char *host, uint32_t ip);
extern uint32_t tb_dns_ttl;                    /* TTL of every answer (default 300 s) */
typedef struct {
    uint32_t ip;
    uint16_t port;
    int connect_err;          /* nonzero: hal_tcp_connect returns this */
    int tls_err;              /* nonzero: hal_tls_start returns this */
    const char *reply;        /* bytes the peer sends once the request is in (may be NULL) */
    size_t reply_len;         /* 0: strlen(reply) */
    size_t chunk;             /* deliver at most this many bytes per recv (0: all) */
    int stall;                /* after the reply, the peer neither sends nor closes */
    /* filled in by the test board: */
    char sent[TB_IO_MAX];     /* everything the firmware sent */
    size_t sent_len;
    int used, closed, tls;
    char tls_host[128];
    int tls_resume;           /* hal_tls_params.resume of its handshake */
} tb_peer;
tb_peer *tb_add_peer(uint32_t ip, uint16_t port, const char *reply);
/* A client that connects to the board's listener (ip 0, port 0): hal_tcp_accept returns the
 * next unused one. It sends data (len bytes), then closes, or stalls if ->stall is set. */
tb_peer *tb_add_client(const char *data, size_t len);
extern tb_peer tb_peers[TB_MAX_PEERS];
extern int tb_npeers;
extern int tb_dns_lookups, tb_connects;

/* Reports from hal_report(), one line each "kind where code text\n". */
extern char tb_reports[TB_IO_MAX];
extern char tb_secret[256];   /* what the firmware echoed with hal_console_write_secret() */

void tb_reset(void);

/* The set-up the firmware's tests share: the home network and hooks.example. */
#define TB_IP_HOOK 0x0A000005u   /* 10.0.0.5, where hooks.example resolves */
/* config.py joining home-net and posting to hooks.example's trigger URL (key abc) */
extern const char TB_CONFIG[];
/* hooks.example's 200 to a trigger, in IFTTT's words */
extern const char TB_OK_REPLY[];
/* config.py = config; home-net (password "correct horse", channel 6) in range: its number
 * (tb_add_ap's); hooks.example resolving to hook_ip */
int tb_home(const char *config, uint32_t hook_ip);
/* tb_reset() for the next wake of the same board: RTC memory kept (not at power-on), the
 * reset cause and hal_slept_ms() given */
void tb_wake(hal_reset_cause_t cause, int64_t slept_ms);
/* runs app_main() until it sleeps or resets (see tb_exit) */
void tb_boot(void);

/* Tiny test harness: CHECK prints file:line and the expression on failure, and counts it. */
extern int tb_failures;
#define CHECK(cond) do { if (!(cond)) { tb_fail(__FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) tb_fail_str(__FILE__, __LINE__, #a, a_, b_); } while (0)
#define CHECK_INT(a, b) do { long a_ = (long)(a), b_ = (long)(b); \
    if (a_ != b_) tb_fail_int(__FILE__, __LINE__, #a, a_, b_); } while (0)
void tb_fail(const char *file, int line, const char *expr);
void tb_fail_str(const char *file, int line, const char *expr, const char *got, const char *want);
void tb_fail_int(const char *file, int line, const char *expr, long got, long want);
int tb_done(const char *name);                 /* prints "name: N failures", returns exit code */

#endif
