/* log.c - the board's clock, its JSON-lines event log and its terminal lines.
 *
 * Both processes of the board (the hardware and the running firmware) write to the same log
 * and terminal. Each line is built in memory and written with one write() on a descriptor
 * they share, so lines from the two never interleave and keep their order in time. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

sim_shared *sim_sh;
sim_world sim_w;
int sim_events_fd = -1;
int sim_console_fd = -1;
int sim_notify_fd = -1;
char sim_flash_dir[SIM_PATH_MAX];

static struct timespec power_on;

void sim_clock_start(void)
{
    clock_gettime(CLOCK_MONOTONIC, &power_on);
}

uint32_t sim_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ms = (int64_t)(t.tv_sec - power_on.tv_sec) * 1000 +
                 (t.tv_nsec - power_on.tv_nsec) / 1000000;
    return (uint32_t)ms;
}

/* The board's clock. The host runs the firmware's code at its own pace: far faster than the
 * chip's 80 MHz, or slower under valgrind, or not at all for a while on a loaded machine. A
 * clock that counted host time throughout would let that pace decide what the firmware sees
 * happen (the boot's auto-connect finishing its scan before the firmware's own join began;
 * a bound of AWAKE_MAX overrun by time the process spent waiting for a CPU). The board's
 * clock counts only the firmware's waits, each for the host time it took but never more than
 * it asked for (a delay is exact, a timeout ends at its deadline), and the code between two
 * waits takes no time: on the chip this firmware's code between two waits runs in a few ms
 * (the one long computation, a full TLS handshake, has its figure in the wake report), and
 * the NONOS SDK's Wi-Fi, timers included, only moves on while the code yields in a wait. */
static uint64_t clock_pack(uint32_t ms, uint32_t from)
{
    return (uint64_t)ms << 32 | from;
}

uint32_t sim_board_ms(void)
{
    if (!sim_sh)
        return 0;
    uint64_t c = __atomic_load_n(&sim_sh->board_clock, __ATOMIC_ACQUIRE);
    uint32_t ms = (uint32_t)(c >> 32), from = (uint32_t)c;
    if (from) {
        uint32_t took = sim_now() - (from - 1), cap = __atomic_load_n(&sim_sh->wait_cap,
                                                                      __ATOMIC_RELAXED);
        ms += took < cap ? took : cap;
    }
    return ms;
}

static int wait_depth;   /* the child's: should a wait ever call another, it counts once */

void sim_wait_begin(uint32_t cap_ms)
{
    if (wait_depth++)
        return;
    uint64_t c = __atomic_load_n(&sim_sh->board_clock, __ATOMIC_RELAXED);
    __atomic_store_n(&sim_sh->wait_cap, cap_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&sim_sh->board_clock, clock_pack((uint32_t)(c >> 32), sim_now() + 1),
                     __ATOMIC_RELEASE);
}

void sim_wait_end(void)
{
    if (wait_depth == 0 || --wait_depth)
        return;
    __atomic_store_n(&sim_sh->board_clock, clock_pack(sim_board_ms(), 0), __ATOMIC_RELEASE);
}

void sim_feed(void)
{
    if (sim_sh)
        __atomic_store_n(&sim_sh->heartbeat, sim_now(), __ATOMIC_RELAXED);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;   /* a closed terminal must not stop the board */
        p += w;
        n -= (size_t)w;
    }
}

void sim_json_escape(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < n && o + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (c == '\t') {
            out[o++] = '\\';
            out[o++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else if (c >= 0x80) {
            /* firmware text is bytes: keep valid UTF-8, escape anything else so every line
             * stays valid JSON */
            size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            bool ok = len > 0 && i + len <= n && o + len + 7 < cap;
            for (size_t k = 1; ok && k < len; k++)
                ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
            if (ok) {
                memcpy(out + o, s + i, len);
                o += len;
                i += len - 1;
            } else {
                o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
            }
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

static void ev_put(sim_ev *e, const char *s, size_t n)
{
    if (e->len + n + 2 >= sizeof e->buf) {   /* room for the closing "}\n" */
        e->overflow = true;
        return;
    }
    memcpy(e->buf + e->len, s, n);
    e->len += n;
}

static void ev_key(sim_ev *e, const char *key)
{
    ev_put(e, ",\"", 2);
    ev_put(e, key, strlen(key));
    ev_put(e, "\":", 2);
}

void ev_begin(sim_ev *e, const char *event)
{
    e->len = 0;
    e->overflow = false;
    char head[64];
    int n = snprintf(head, sizeof head, "{\"t\":%u,\"boot\":%u", (unsigned)sim_now(),
                     sim_sh ? (unsigned)sim_sh->boot : 0u);
    ev_put(e, head, (size_t)n);
    ev_str(e, "event", event);
}

void ev_strn(sim_ev *e, const char *key, const char *val, size_t n)
{
    static char esc[8192];
    sim_json_escape(esc, sizeof esc, val, n);
    ev_key(e, key);
    ev_put(e, "\"", 1);
    ev_put(e, esc, strlen(esc));
    ev_put(e, "\"", 1);
}

void ev_str(sim_ev *e, const char *key, const char *val)
{
    if (!val) {
        ev_raw(e, key, "null");
        return;
    }
    ev_strn(e, key, val, strlen(val));
}

void ev_int(sim_ev *e, const char *key, long long val)
{
    char n[32];
    snprintf(n, sizeof n, "%lld", val);
    ev_raw(e, key, n);
}

void ev_bool(sim_ev *e, const char *key, bool val)
{
    ev_raw(e, key, val ? "true" : "false");
}

void ev_num1(sim_ev *e, const char *key, double val)
{
    char n[48];
    snprintf(n, sizeof n, "%.1f", val);
    ev_raw(e, key, n);
}

void ev_raw(sim_ev *e, const char *key, const char *json)
{
    ev_key(e, key);
    ev_put(e, json, strlen(json));
}

void ev_end(sim_ev *e)
{
    e->buf[e->len++] = '}';
    e->buf[e->len++] = '\n';
    if (sim_events_fd >= 0)
        write_all(sim_events_fd, e->buf, e->len);
}

/* One message, each of its lines stamped, in ONE write: the firmware's console lines come
 * from another process to the same terminal, and must not land inside a multi-line message
 * such as the wake report. */
void sim_say(const char *fmt, ...)
{
    char text[2048], out[4096], stamp[16];
    uint32_t t = sim_now();
    int sn = snprintf(stamp, sizeof stamp, "[%3u.%03u] ", (unsigned)(t / 1000), (unsigned)(t % 1000));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t len = 0;
    for (const char *p = text; len + (size_t)sn + 2 < sizeof out;) {
        memcpy(out + len, stamp, (size_t)sn);
        len += (size_t)sn;
        const char *nl = strchr(p, '\n');
        size_t k = nl ? (size_t)(nl - p) : strlen(p);
        if (k > sizeof out - len - 2)
            k = sizeof out - len - 2;
        memcpy(out + len, p, k);
        len += k;
        out[len++] = '\n';
        if (!nl)
            break;
        p = nl + 1;
    }
    write_all(STDOUT_FILENO, out, len);
}

const char *sim_cause_name(int cause)
{
    switch (cause) {
    case HAL_RESET_PWRON: return "PWRON_RESET";
    case HAL_RESET_WDT: return "WDT_RESET";
    case HAL_RESET_EXCEPTION: return "EXCEPTION_RESET";
    case HAL_RESET_SOFT_WDT: return "SOFT_WDT_RESET";
    case HAL_RESET_SOFT: return "SOFT_RESET";
    case HAL_RESET_DEEPSLEEP: return "DEEPSLEEP_RESET";
    case HAL_RESET_HARD: return "HARD_RESET";
    default: return "UNKNOWN";
    }
}

const char *sim_pin_name(int gpio)
{
    static const char *names[SIM_NPINS] = {
        [16] = "D0", [5] = "D1", [4] = "D2", [0] = "D3", [2] = "D4",
        [14] = "D5", [12] = "D6", [13] = "D7", [15] = "D8", [3] = "RX", [1] = "TX",
        [9] = "SD2", [10] = "SD3",
    };
    return gpio >= 0 && gpio < SIM_NPINS ? names[gpio] : NULL;
}
