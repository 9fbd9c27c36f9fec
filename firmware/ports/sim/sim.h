/*
 * sim.h - the simulated NodeMCU ESP8266 board: what its parts share.
 *
 * Two processes make one board. The parent ("the hardware", main.c) owns what survives a
 * reset: RTC memory, the levels that outside wiring puts on the pins (the debug jumper), the
 * flash folder, the MAC, the radio world. Each boot forks a child that runs app_main() from
 * pristine process state, as a real reset restarts the CPU; the child implements hal.h
 * (board.c, radio.c, ../common/tls_mbedtls.c). They share one MAP_SHARED page, sim_shared.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

#define SIM_NPINS 17
#define SIM_MAX_APS 32
#define SIM_MAX_HOSTS 32
#define SIM_MAX_PORTS 16
#define SIM_MAX_SOCKS 8            /* lwIP on the ESP8266 allows a handful of PCBs too */
#define SIM_PATH_MAX 4096

/* ---- the radio world (world.c), read once by the parent; the child inherits a copy ---- */
typedef struct {
    char ssid[33];
    char password[65];
    uint8_t bssid[6];
    uint8_t channel;
    int8_t rssi;
    uint8_t auth;
    bool hidden;
    uint32_t move_boot;         /* fault: from this boot on the AP is on move_channel (0: never) */
    uint8_t move_channel;
} sim_ap;

typedef struct {
    char name[128];
    uint32_t ip;
} sim_host;

typedef struct {
    int naps;
    sim_ap aps[SIM_MAX_APS];
    uint32_t net, netmask, gateway, dns, lease_s;   /* DHCP pool */
    uint32_t dns_ttl_s;         /* TTL of every DNS answer (world hosts and the host's) */
    int nhosts;
    sim_host hosts[SIM_MAX_HOSTS];
    char ca_bundle[SIM_PATH_MAX];
    /* faults */
    bool dns_fail, join_fail, dhcp_fail, scan_fail;
    uint32_t silent_boot, silent_ms;   /* from boot silent_boot on, the APs ignore association
                                          requests in the first silent_ms of each wake */
    uint32_t drop_boot, drop_connects; /* from boot drop_boot on, the first drop_connects TCP
                                          connects of each wake get no answer */
    uint32_t flip_boot, flip_offset;   /* as boot flip_boot starts, the RTC memory byte at
                                          flip_offset is inverted (0: never) */
    uint32_t host_stall_ms;     /* each flash read stalls the firmware this long in the host's
                                   time, outside any wait (a loaded host, valgrind) */
    int firmware_hang;          /* boots that hang before app_main (-1: every boot) */
    int firmware_crash;         /* boots that crash before app_main (-1: every boot) */
    /* board */
    uint32_t wdt_ms;            /* watchdog limit */
    uint32_t flash_bytes;       /* flash file system capacity */
    int ap_stations;            /* stations joined to the board's own AP */
    int button_gpio;            /* the RESET button also wired to this GPIO (to GND, to RST
                                   through a capacitor: docs/press-kinds.md); -1: RST only */
    uint32_t listen_host;       /* host address the board's listeners bind to */
    int nports;
    struct { uint16_t board, host; } ports[SIM_MAX_PORTS];
    /* the battery (docs/energy-model.md): its charge in mAs, 0 for none (USB power through
       the NodeMCU's regulator: 3.3 V), and its voltage full and empty, linear between */
    double battery_mAs;
    uint32_t battery_full_mv, battery_empty_mv;
    /* real delays of the simulated radio (ms): short so tests stay fast */
    uint32_t scan_ms, assoc_ms, dhcp_ms;
    char source[SIM_PATH_MAX];  /* the world file, or "built-in" */
} sim_world;

int sim_world_load(sim_world *w, const char *path, char *err, size_t cap);
uint8_t sim_ap_channel(const sim_ap *a);   /* its channel in this boot (channel_after_boot) */
void sim_world_default(sim_world *w);

/* ---- the join in progress: planned phases, settled (counted) as time passes ---- */
enum { PH_SCAN = 1, PH_ASSOC = 2, PH_DHCP = 4 };
typedef struct {
    int active;                 /* a join was started and not left since */
    uint32_t start;             /* ms since power-on */
    uint32_t scan_end, assoc_end, dhcp_end;   /* 0: phase not planned */
    int outcome;                /* the hal_link_t it ends in */
    uint32_t outcome_at;        /* when the outcome shows; UINT32_MAX: never (DHCP fault) */
    int ap;                     /* index in the world */
    bool static_ip;
    hal_ipcfg ipcfg;
    int settled;                /* PH_* already counted */
} sim_join;

/* ---- what the wake report counts ---- */
typedef struct {
    uint32_t scans, assocs, dhcp, dns, tcp, tls;
    uint32_t tls_resumed;       /* of tls: the short handshakes of a resumed session */
    uint32_t tx_packets;        /* TCP segments with data the board sent (1460 bytes each) */
    uint64_t tx_bytes, rx_bytes;
    int64_t delta_ms;           /* modeled minus real time of the counted steps */
    char last_wake[96];         /* why the wake before this one failed, as the app said; "" */
} sim_counts;

enum { REQ_NONE, REQ_SLEEP, REQ_RESET, REQ_IDLE };

typedef struct {
    /* hardware kept by the parent */
    uint8_t rtc[HAL_RTC_SIZE];
    int8_t ext_level[SIM_NPINS];    /* -1: nothing outside drives it; 0/1: wired to GND/VCC */
    uint8_t mac[6];
    uint32_t boot;
    int reset_cause;
    uint32_t boot_at;               /* ms since power-on */
    uint32_t slept_at;              /* ms since power-on when the last deep sleep began */
    int64_t slept_ms;               /* how long this boot's deep sleep lasted; -1: no sleep */
    /* pins, written by the child */
    int8_t pin_mode[SIM_NPINS];     /* -1: reset state (input, no pull) */
    int8_t pin_pull[SIM_NPINS];
    int8_t pin_latch[SIM_NPINS];
    int8_t led_on[2];               /* D4 (GPIO2), D0 (GPIO16) */
    /* watchdog: ms since power-on of the last feed */
    uint32_t heartbeat;
    /* the board's clock (log.c): ms of this boot spent waiting << 32 | the host's sim_now()
       + 1 when the wait in progress began (0: none); that wait counts at most wait_cap ms */
    uint64_t board_clock;
    uint32_t wait_cap;
    /* what the child asks of the hardware */
    int request;
    uint32_t sleep_ms;
    /* radio */
    bool sta_active, ap_active;
    sim_join join;
    sim_counts counts;
    uint16_t listening[SIM_MAX_PORTS][2];   /* board port, host port */
    /* the battery: charge left (mAs), and what this wake's reports have drained so far */
    double battery_left_mAs, wake_drained_mAs;
} sim_shared;

extern sim_shared *sim_sh;
extern sim_world sim_w;
extern int sim_events_fd;       /* DIR/events.jsonl, O_APPEND */
extern int sim_console_fd;      /* console input: read end of a pipe fed by the parent */
extern int sim_notify_fd;       /* child -> parent: write end of a pipe, one byte = "look" */
extern char sim_flash_dir[SIM_PATH_MAX];

/* ---- clock and log (log.c) ---- */
uint32_t sim_now(void);                 /* ms since power-on */
void sim_clock_start(void);
void sim_feed(void);                    /* feed the watchdog */
/* The board's own clock: ms since this boot began, counting only the time the firmware spent
 * waiting (hal_millis(); docs/simulated-board.md, "The board's time"). Both processes read
 * it; the child brackets each wait with the two calls below. */
uint32_t sim_board_ms(void);
void sim_wait_begin(uint32_t cap_ms);   /* a wait of at most cap_ms starts */
void sim_wait_end(void);                /* it ended: the clock takes its host time, capped */

/* JSON event builder: one object, written with one write() so lines never interleave. */
typedef struct {
    char buf[8192];
    size_t len;
    bool overflow;
} sim_ev;
void ev_begin(sim_ev *e, const char *event);    /* {"t":..,"boot":..,"event":".." */
void ev_str(sim_ev *e, const char *key, const char *val);
void ev_strn(sim_ev *e, const char *key, const char *val, size_t n);
void ev_int(sim_ev *e, const char *key, long long val);
void ev_bool(sim_ev *e, const char *key, bool val);
void ev_num1(sim_ev *e, const char *key, double val);   /* one decimal */
void ev_raw(sim_ev *e, const char *key, const char *json);
void ev_end(sim_ev *e);                          /* writes the line */
/* A terminal line: "[  1.234] text". */
void sim_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_json_escape(char *out, size_t cap, const char *s, size_t n);

const char *sim_cause_name(int cause);
const char *sim_pin_name(int gpio);     /* "D4", or NULL */

/* ---- the child (board.c, radio.c) ---- */
_Noreturn void sim_child_main(void);
void sim_console_flush(void);
int sim_join_link(const sim_join *j, uint32_t now);  /* hal_link_t at time now */
void sim_join_settle(sim_join *j, uint32_t now);     /* count finished phases */
void sim_socks_close_all(void);

/* ---- the energy model (model.c) ---- */
typedef struct {
    const char *key;
    double value;
    const char *unit;
    const char *what;
    const char *source;
} sim_figure;
extern const sim_figure sim_model[];
double sim_model_get(const char *key);
enum { M_BOOT, M_SCAN, M_ASSOC, M_DHCP, M_DNS, M_TCP, M_TLS, M_TLS_RESUMED, M_RADIO_MA, M_SLEEP_UA,
       M_COUNT };
#define SIM_MODEL(i) (sim_model[i].value)
/* The report of one wake (real_ms: the host's time; board_ms: the board's clock): logs a
 * "report" event and prints the table; the wake's energy drained from the battery. */
void sim_report(const sim_counts *c, uint32_t real_ms, uint32_t board_ms, const char *end);
/* The supply the firmware reads: the battery's voltage at its charge left; 3300 without one. */
uint16_t sim_supply_mv(void);

#endif
