/*
 * hal.h - the board contract.
 *
 * Everything the portable firmware needs from a board, and nothing else: the firmware calls
 * only these functions (plus <string.h>-style helpers from the C library), never the OS.
 * Each port (ports/sim, a real Linux board, the ESP8266 SDK, a bare-metal MCU running lwIP's
 * raw API) defines every function below; the port is chosen at link time, so portable code
 * has no #ifdef per port. tests/board/ holds a test board with a fake clock.
 *
 * Conventions
 *  - Functions returning int give 0 (or a count) on success and a negative bh_err on failure.
 *  - Calls that wait take a timeout in milliseconds and must keep the board alive while they
 *    wait: a port without threads (lwIP raw API, no RTOS) pumps its network stack and feeds
 *    the watchdog inside them, as MicroPython's esp8266 port does in its blocking calls.
 *  - IPv4 addresses are uint32_t in host order: 192.168.4.1 is 0xC0A80401.
 */
#ifndef BH_HAL_H
#define BH_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Errors: one convention for every firmware layer ---------------------------------- */
typedef enum {
    BH_OK = 0,
    BH_ERR_ARG = -1,         /* invalid argument */
    BH_ERR_NOMEM = -2,       /* a static buffer or table is full */
    BH_ERR_NOENT = -3,       /* no such file */
    BH_ERR_IO = -4,          /* flash or hardware failure */
    BH_ERR_TIMEOUT = -5,     /* gave up waiting */
    BH_ERR_DNS = -6,         /* host name could not be resolved */
    BH_ERR_REFUSED = -7,     /* connection refused */
    BH_ERR_UNREACH = -8,     /* network or host unreachable */
    BH_ERR_RESET = -9,       /* connection reset or closed early by the peer */
    BH_ERR_NOLINK = -10,     /* the station is not connected */
    BH_ERR_TLS = -11,        /* TLS handshake or record failure */
    BH_ERR_CERT = -12,       /* server certificate not trusted or not for this host */
    BH_ERR_PROTO = -13,      /* malformed protocol data */
    BH_ERR_TOOBIG = -14,     /* input over its cap */
    BH_ERR_STATE = -15,      /* not allowed in the current state */
    BH_ERR_FULL = -16,       /* flash full */
    BH_ERR_UNSUPPORTED = -17 /* the board cannot do this */
} bh_err;

/* A short English message for an error code (firmware/hal/err.c). */
const char *bh_strerror(int err);

/* ---- Pins and LEDs ---------------------------------------------------------------------- */
/* LEDs are pins: on the NodeMCU they sit on GPIO2 and GPIO16 and are active-low. */
enum { HAL_PIN_IN = 0, HAL_PIN_OUT = 1, HAL_PIN_OPEN_DRAIN = 2 };
enum { HAL_PULL_NONE = 0, HAL_PULL_UP = 1 };

bool hal_pin_valid(int gpio);                 /* can this board use the pin at all? */
int hal_pin_mode(int gpio, int mode, int pull);
int hal_pin_write(int gpio, int value);
int hal_pin_read(int gpio);                   /* 0 or 1, or a negative bh_err */

/* ---- Reset cause, deep sleep, watchdog ---------------------------------------------------- */
/* Values are the ESP8266 SDK's reset reasons, which MicroPython exposes unchanged. */
typedef enum {
    HAL_RESET_PWRON = 0,     /* power applied */
    HAL_RESET_WDT = 1,       /* hardware watchdog */
    HAL_RESET_EXCEPTION = 2, /* crash */
    HAL_RESET_SOFT_WDT = 3,  /* software watchdog */
    HAL_RESET_SOFT = 4,      /* hal_reset() */
    HAL_RESET_DEEPSLEEP = 5, /* woken from deep sleep (RESET pressed or timer) */
    HAL_RESET_HARD = 6       /* RESET pressed while awake */
} hal_reset_cause_t;

hal_reset_cause_t hal_reset_cause(void);
/* How long the board slept before this boot, in ms, as its RTC clock measured it: only
 * roughly (the ESP8266's RTC oscillator drifts by several percent with temperature, so callers
 * add a margin). BH_ERR_UNSUPPORTED when the board cannot tell: power-on, a reset while awake,
 * a sleep longer than its clock counts. */
int hal_slept_ms(uint32_t *ms);
/* Never return. ms = 0 sleeps until RESET; otherwise the timer wakes the board (GPIO16 wired
 * to RST on a real ESP8266). Either way the next boot reports HAL_RESET_DEEPSLEEP. */
_Noreturn void hal_deep_sleep(uint32_t ms);
_Noreturn void hal_reset(void);
void hal_wdt_feed(void);                      /* for long computations between waits */

/* ---- Supply voltage ------------------------------------------------------------------------ */
/* The chip's supply (VCC, the battery's voltage when it feeds the chip directly), in mV.
 * BH_ERR_UNSUPPORTED where the board cannot read it. The ESP8266 reads it with its ADC in VCC
 * mode (system_get_vdd33(); byte 107 of the PHY init data 255, docs/esp8266.md); the simulated
 * board models a battery that each wake drains (docs/energy-model.md). */
int hal_supply_mv(uint16_t *mv);

/* ---- RTC memory: survives deep sleep and resets, lost on power loss --------------------- */
/* Layout: 0..63 the application's record and 64..235 its queue of unsent presses
 * (app/rtc_state.h); 236..491 the port's TLS session (ports/common/tls_mbedtls.c), which only
 * hal_tls_start() reads and writes. Each part has its own checksum and version. */
#define HAL_RTC_SIZE 492
#define HAL_RTC_TLS_OFF 236
#define HAL_RTC_TLS_SIZE 256
int hal_rtc_read(size_t off, void *buf, size_t len);
int hal_rtc_write(size_t off, const void *buf, size_t len);

/* ---- Clock ------------------------------------------------------------------------------- */
uint32_t hal_millis(void);                    /* ms since this boot; wraps after 49 days */
void hal_delay_ms(uint32_t ms);               /* waits, servicing the network and watchdog */

/* ---- Console (the serial port) ------------------------------------------------------------ */
void hal_console_write(const char *s, size_t len);
/* The echo of a secret being typed (a password in webrepl_setup): a terminal shows it as
 * hal_console_write() does (MicroPython's input() echoes it too), but a log the port keeps on
 * disk (the simulated board's events.jsonl) keeps '*' in its place. */
void hal_console_write_secret(const char *s, size_t len);
int hal_console_read(char *buf, size_t cap, uint32_t timeout_ms); /* bytes, 0 on timeout */

/* ---- Flash files ------------------------------------------------------------------------------ */
int hal_fs_size(const char *name);            /* size in bytes, or BH_ERR_NOENT */
int hal_fs_read(const char *name, uint32_t off, void *buf, size_t len);        /* bytes read */
/* off 0 creates or truncates the file; off > 0 must equal the current size (append). */
int hal_fs_write(const char *name, uint32_t off, const void *buf, size_t len); /* BH_ERR_FULL */
int hal_fs_remove(const char *name);
int hal_fs_list(int index, char *name, size_t cap); /* index-th file name; BH_ERR_NOENT at end */

/* ---- Radio --------------------------------------------------------------------------------- */
/* Link states are the ESP8266 station states, which MicroPython's status() returns as is. */
typedef enum {
    HAL_LINK_IDLE = 0,
    HAL_LINK_CONNECTING = 1,
    HAL_LINK_WRONG_PASSWORD = 2,
    HAL_LINK_NO_AP_FOUND = 3,
    HAL_LINK_CONNECT_FAIL = 4,
    HAL_LINK_GOT_IP = 5
} hal_link_t;

enum { HAL_AUTH_OPEN = 0, HAL_AUTH_WEP = 1, HAL_AUTH_WPA_PSK = 2, HAL_AUTH_WPA2_PSK = 3,
       HAL_AUTH_WPA_WPA2_PSK = 4 };

typedef struct {
    char ssid[33];        /* NUL-terminated, at most 32 bytes */
    uint8_t bssid[6];
    uint8_t channel;
    int8_t rssi;          /* dBm */
    uint8_t authmode;     /* HAL_AUTH_* */
    uint8_t hidden;       /* 0 or 1 */
} hal_ap_info;

typedef struct {
    uint32_t ip, netmask, gw, dns;
    uint32_t lease_s;     /* seconds left on a DHCP lease; 0 for a static address */
} hal_ipcfg;

typedef struct {
    const char *ssid;         /* at most 32 bytes */
    const char *password;     /* at most 64 bytes; "" for an open network */
    const uint8_t *bssid;     /* NULL: any AP with this SSID */
    uint8_t channel;          /* 0: scan all channels */
    const hal_ipcfg *static_ip; /* NULL: DHCP */
    const char *hostname;     /* DHCP host name, NULL for the board's default */
} hal_join_params;

typedef struct {
    const char *ssid;
    const char *password;
    uint8_t authmode, channel, hidden;
} hal_ap_params;

void hal_radio_mac(uint8_t mac[6]);           /* the station MAC */
int hal_radio_sta_active(bool on);            /* power the station interface up or down */
int hal_radio_scan(hal_ap_info *out, int max);/* blocks; number of APs written */
int hal_radio_join(const hal_join_params *p); /* starts joining and returns at once */
hal_link_t hal_radio_link(void);
int hal_radio_leave(void);
int hal_radio_ipcfg(hal_ipcfg *out);          /* the station's address; BH_ERR_NOLINK */
int hal_radio_set_ipcfg(const hal_ipcfg *cfg);/* static address while connected */
int hal_radio_assoc(uint8_t bssid[6], uint8_t *channel, int8_t *rssi); /* current AP */
int hal_radio_ap(bool active, const hal_ap_params *p); /* the board's own access point */
int hal_radio_ap_stations(void);              /* stations joined to our AP */

/* ---- Sockets ------------------------------------------------------------------------------- */
int hal_dns_lookup(const char *host, uint32_t *ip, uint32_t timeout_ms);
/* The same, and how long the answer may be kept (*ttl_s: the record's TTL; 0 for an IPv4
 * literal or an answer not to be kept). */
int hal_dns_lookup_ttl(const char *host, uint32_t *ip, uint32_t *ttl_s, uint32_t timeout_ms);
int hal_tcp_connect(uint32_t ip, uint16_t port, uint32_t timeout_ms); /* a socket >= 0 */
int hal_tcp_send(int s, const void *buf, size_t len, uint32_t timeout_ms); /* all or error */
int hal_tcp_recv(int s, void *buf, size_t cap, uint32_t timeout_ms); /* >0, 0 = closed */
void hal_tcp_close(int s);
int hal_tcp_listen(uint16_t port);                                    /* a listener >= 0 */
int hal_tcp_accept(int listener, uint32_t timeout_ms);                /* BH_ERR_TIMEOUT */

/* TLS on a connected socket: after hal_tls_start() succeeds, hal_tcp_send/recv on s carry
 * TLS records. The port brings the TLS library (lwIP's altcp_tls does the same); the
 * mbedTLS one is in ports/common/tls_mbedtls.c. */
typedef struct {
    const char *host;         /* checked against the certificate; also sent as SNI, unless
                                 it is an IP address (RFC 6066): then the certificate must
                                 hold it as a subjectAltName iPAddress */
    const char *ca_file;      /* a flash file with PEM CAs; NULL: the board's CA bundle */
    /* Session resumption across deep sleep (docs/fast-wake.md): the port keeps the session
     * in its part of RTC memory and offers it on the next handshake with the same host and
     * CAs while its lifetime lasts. false: a full handshake, nothing kept. */
    bool resume;
} hal_tls_params;
int hal_tls_start(int s, const hal_tls_params *p, uint32_t timeout_ms); /* BH_ERR_CERT, _TLS */

/* ---- Crypto the port's library does ----------------------------------------------------------- */
/* SHA-1 of data into out (the WebSocket handshake of WebREPL needs it). The Linux-hosted ports
 * use mbedTLS; an ESP8266 port has it in its SDK or ROM. */
int hal_sha1(const void *data, size_t len, uint8_t out[20]);
/* len random bytes, unpredictable and different on every boot: the ESP8266 has a hardware
 * random number generator (os_random(), the RANDOM_REG32 register); a Linux port reads
 * getrandom(). The press queue draws its id from it (app/rtc_state.h). */
void hal_random(void *buf, size_t len);

/* ---- Reports ------------------------------------------------------------------------------- */
/* A structured note for the board's log (the simulated board writes JSON lines; a real board
 * may ignore it). kind: "http", "error", "wifi", "info". */
void hal_report(const char *kind, const char *where, int code, const char *text);

#endif
