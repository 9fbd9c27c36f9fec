/* board.c - the simulated board's chip, as the running firmware sees it: pins and LEDs, reset
 * cause, deep sleep, watchdog, RTC memory, clock, console, flash files, reports. Runs in the
 * child process of one boot (see sim.h); radio.c has the radio and sockets. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/tls_mbedtls.h"
#include "app/app.h"
#include "console/console.h"
#include "portal/portal.h"
#include "sim.h"

/* Calls that wait do so in slices no longer than this, feeding the watchdog between them, as
 * the ESP8266 port's blocking calls do. */
#define SLICE_MS 200

/* ---- pins and LEDs ---------------------------------------------------------------------- */

static const int led_gpio[2] = {2, 16};

bool hal_pin_valid(int gpio)
{
    return (gpio >= 0 && gpio <= 5) || gpio == 9 || gpio == 10 || (gpio >= 12 && gpio <= 16);
}

/* Does the chip pull this pad low? That is what lights an active-low LED. GPIO16's open-drain
 * mode is an input in MicroPython's esp8266 port (the RTC pad has no open-drain driver). */
static bool pad_driven_low(int gpio)
{
    int mode = sim_sh->pin_mode[gpio];
    if (sim_sh->pin_latch[gpio] != 0)
        return false;
    return mode == HAL_PIN_OUT || (mode == HAL_PIN_OPEN_DRAIN && gpio != 16);
}

/* LED changes are reported when the firmware lets time pass (any call that waits, reads the
 * clock or ends the wake), not at each pin write: a pin set as output, whose latch is still 0
 * after reset, lights D4 for the microseconds until the next write, which nobody sees on a
 * real board. What is reported is what a person watching the board would see. */
static void leds_show(void)
{
    for (int i = 0; i < 2; i++) {
        int on = pad_driven_low(led_gpio[i]);
        if (on == sim_sh->led_on[i])
            continue;
        sim_sh->led_on[i] = (int8_t)on;
        const char *name = sim_pin_name(led_gpio[i]);
        sim_ev e;
        ev_begin(&e, "led");
        ev_str(&e, "pin", name);
        ev_int(&e, "gpio", led_gpio[i]);
        ev_bool(&e, "on", on);
        ev_end(&e);
        sim_say("LED %s %s", name, on ? "on" : "off");
    }
}

int hal_pin_mode(int gpio, int mode, int pull)
{
    if (!hal_pin_valid(gpio) || mode < HAL_PIN_IN || mode > HAL_PIN_OPEN_DRAIN ||
        (pull != HAL_PULL_NONE && pull != HAL_PULL_UP))
        return BH_ERR_ARG;
    if (gpio == 16 && pull != HAL_PULL_NONE)
        return BH_ERR_UNSUPPORTED;   /* "Pin(16) doesn't support pull" */
    sim_sh->pin_mode[gpio] = (int8_t)mode;
    sim_sh->pin_pull[gpio] = (int8_t)pull;
    /* MicroPython's pin_set(16, -1) ORs -1 into RTC_GPIO_OUT: setting GPIO16's mode drives it
     * high. GPIO0-15 keep their output latch. */
    if (gpio == 16)
        sim_sh->pin_latch[gpio] = 1;
    return BH_OK;
}

int hal_pin_write(int gpio, int value)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    /* on GPIO0-15 a write to an input does not touch the latch (pin_set() makes it -1) */
    if (gpio == 16 || sim_sh->pin_mode[gpio] == HAL_PIN_OUT ||
        sim_sh->pin_mode[gpio] == HAL_PIN_OPEN_DRAIN)
        sim_sh->pin_latch[gpio] = value ? 1 : 0;
    return BH_OK;
}

int hal_pin_read(int gpio)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    int mode = sim_sh->pin_mode[gpio];
    if (mode == HAL_PIN_OUT || (mode == HAL_PIN_OPEN_DRAIN && gpio != 16 &&
                                sim_sh->pin_latch[gpio] == 0))
        return sim_sh->pin_latch[gpio];
    if (sim_sh->ext_level[gpio] >= 0)
        return sim_sh->ext_level[gpio];   /* the jumper to GND wins over any pull-up */
    if (sim_sh->pin_pull[gpio] == HAL_PULL_UP)
        return 1;
    /* the NodeMCU's own resistors: pull-ups on GPIO0 and GPIO2 (boot straps), GPIO16's LED
     * to 3.3 V; a pull-down on GPIO15. A truly floating pad reads noise; we say 0. */
    return gpio == 0 || gpio == 2 || gpio == 16 ? 1 : 0;
}

/* ---- clock and watchdog ------------------------------------------------------------------ */

/* The board's clock (sim_board_ms()): the firmware's waits, not the host's pace. */
uint32_t hal_millis(void)
{
    leds_show();
    return sim_board_ms();
}

void hal_wdt_feed(void)
{
    sim_feed();
}

void hal_delay_ms(uint32_t ms)
{
    leds_show();
    uint32_t start = sim_now();
    sim_wait_begin(ms);
    for (;;) {
        sim_feed();
        uint32_t spent = sim_now() - start;
        if (spent >= ms)
            break;
        uint32_t step = ms - spent < SLICE_MS ? ms - spent : SLICE_MS;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    sim_wait_end();
}

/* ---- reset, sleep ---------------------------------------------------------------------- */

hal_reset_cause_t hal_reset_cause(void)
{
    return (hal_reset_cause_t)sim_sh->reset_cause;
}

int hal_slept_ms(uint32_t *ms)
{
    if (!ms)
        return BH_ERR_ARG;
    if (sim_sh->slept_ms < 0 || sim_sh->slept_ms > 0xFFFFFFFF)
        return BH_ERR_UNSUPPORTED;
    *ms = (uint32_t)sim_sh->slept_ms;
    return BH_OK;
}

int hal_supply_mv(uint16_t *mv)
{
    if (!mv)
        return BH_ERR_ARG;
    *mv = sim_supply_mv();
    return BH_OK;
}

/* Everything the firmware leaves behind when the chip stops: the console's last partial
 * line, LED state, open sockets and TLS sessions (freed so leak checkers stay quiet). */
static _Noreturn void end_wake(int request, uint32_t sleep_ms)
{
    sim_console_flush();
    leds_show();
    sim_socks_close_all();
    sim_sh->sleep_ms = sleep_ms;
    sim_sh->request = request;
    exit(0);
}

_Noreturn void hal_deep_sleep(uint32_t ms)
{
    tls_before_sleep();
    end_wake(REQ_SLEEP, ms);
}

_Noreturn void hal_reset(void)
{
    end_wake(REQ_RESET, 0);
}

/* The chip's random number generator: the host's. */
void hal_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
    }
}

/* ---- RTC memory: lives in the parent, so it survives every reset but power loss --------- */

int hal_rtc_read(size_t off, void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off)
        return BH_ERR_ARG;
    memcpy(buf, sim_sh->rtc + off, len);
    return BH_OK;
}

int hal_rtc_write(size_t off, const void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off)
        return BH_ERR_ARG;
    memcpy(sim_sh->rtc + off, buf, len);
    return BH_OK;
}

/* ---- console ----------------------------------------------------------------------------- */

static char line[1024];
static char logged[sizeof line];  /* the line for events.jsonl: secrets as '*' */
static size_t line_len;

void sim_console_flush(void)
{
    if (line_len == 0)
        return;
    size_t n = line_len;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    sim_ev e;
    ev_begin(&e, "console");
    ev_strn(&e, "text", logged, n);
    ev_end(&e);
    sim_say("| %.*s", (int)n, line);
    line_len = 0;
}

static void console_put(const char *s, size_t len, bool secret)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            if (line_len == 0) {
                line[0] = logged[0] = ' ';   /* an empty line still shows */
                line_len = 1;
            }
            sim_console_flush();
        } else {
            if (line_len == sizeof line)
                sim_console_flush();
            line[line_len] = s[i];
            logged[line_len++] = secret ? '*' : s[i];
        }
    }
}

void hal_console_write(const char *s, size_t len)
{
    console_put(s, len, false);
}

void hal_console_write_secret(const char *s, size_t len)
{
    console_put(s, len, true);
}

int hal_console_read(char *buf, size_t cap, uint32_t timeout_ms)
{
    if (cap == 0)
        return 0;
    sim_console_flush();
    leds_show();
    uint32_t start = sim_now();
    int n = 0;
    sim_wait_begin(timeout_ms);
    for (;;) {
        sim_feed();
        uint32_t spent = sim_now() - start;
        uint32_t left = spent < timeout_ms ? timeout_ms - spent : 0;
        struct pollfd p = {sim_console_fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left < SLICE_MS ? left : SLICE_MS)) > 0) {
            ssize_t got = read(sim_console_fd, buf, cap);
            if (got > 0) {
                n = (int)got;
                break;
            }
        }
        if (left == 0 || sim_now() - start >= timeout_ms)
            break;
    }
    sim_wait_end();
    return n;
}

/* ---- flash files: plain files in STATE/flash ---------------------------------------------- */

static int flash_path(const char *name, char *path, size_t cap)
{
    /* one flat directory, as the hal's file names have no folders */
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0 || strlen(name) > 64)
        return BH_ERR_ARG;
    if ((size_t)snprintf(path, cap, "%s/%s", sim_flash_dir, name) >= cap)
        return BH_ERR_ARG;
    return BH_OK;
}

static int io_err(void)
{
    return errno == ENOENT ? BH_ERR_NOENT : errno == ENOSPC ? BH_ERR_FULL : BH_ERR_IO;
}

int hal_fs_size(const char *name)
{
    char path[SIM_PATH_MAX];
    struct stat st;
    if (flash_path(name, path, sizeof path) < 0)
        return BH_ERR_NOENT;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return BH_ERR_NOENT;
    return st.st_size > 0x7fffffff ? BH_ERR_TOOBIG : (int)st.st_size;
}

int hal_fs_read(const char *name, uint32_t off, void *buf, size_t len)
{
    char path[SIM_PATH_MAX];
    if (flash_path(name, path, sizeof path) < 0)
        return BH_ERR_NOENT;
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_err();
    if (sim_w.host_stall_ms) {
        /* the host, not the chip, is slow: the board's clock does not count it (log.c) */
        struct timespec ts = {(time_t)(sim_w.host_stall_ms / 1000),
                              (long)(sim_w.host_stall_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return BH_ERR_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return (int)got;
}

/* Bytes in all flash files: the flash is full when a write would pass the world's capacity. */
static uint64_t flash_used(void)
{
    uint64_t used = 0;
    DIR *d = opendir(sim_flash_dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[SIM_PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", sim_flash_dir, de->d_name) >=
            sizeof path)
            continue;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            used += (uint64_t)st.st_size;
    }
    closedir(d);
    return used;
}

int hal_fs_write(const char *name, uint32_t off, const void *buf, size_t len)
{
    char path[SIM_PATH_MAX];
    int rc = flash_path(name, path, sizeof path);
    if (rc < 0)
        return rc;
    int size = hal_fs_size(name);
    if (off > 0 && (size < 0 || (uint32_t)size != off))
        return BH_ERR_ARG;   /* the contract: off > 0 appends, nothing else */
    uint64_t after = flash_used() - (off == 0 && size > 0 ? (uint64_t)size : 0) + len;
    if (after > sim_w.flash_bytes)
        return BH_ERR_FULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (off == 0 ? O_TRUNC : O_APPEND), 0644);
    if (fd < 0)
        return io_err();
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = io_err();
            close(fd);
            return rc;
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd) < 0)
        return io_err();
    sim_feed();   /* a flash write takes a while on the chip; MicroPython feeds here too */
    return BH_OK;
}

int hal_fs_remove(const char *name)
{
    char path[SIM_PATH_MAX];
    if (flash_path(name, path, sizeof path) < 0 || hal_fs_size(name) < 0)
        return BH_ERR_NOENT;
    return unlink(path) == 0 ? BH_OK : io_err();
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int hal_fs_list(int index, char *name, size_t cap)
{
    if (index < 0)
        return BH_ERR_ARG;
    struct dirent **list;
    int n = scandir(sim_flash_dir, &list, NULL, by_name);   /* sorted: a stable order */
    if (n < 0)
        return BH_ERR_IO;
    int rc = BH_ERR_NOENT, seen = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = list[i]->d_name;
        if (rc == BH_ERR_NOENT && hal_fs_size(nm) >= 0 && seen++ == index) {
            if (strlen(nm) >= cap) {
                rc = BH_ERR_NOMEM;
            } else {
                memcpy(name, nm, strlen(nm) + 1);
                rc = BH_OK;
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* ---- reports ----------------------------------------------------------------------------- */

void hal_report(const char *kind, const char *where, int code, const char *text)
{
    sim_console_flush();   /* keep the log in the order things happened */
    sim_ev e;
    ev_begin(&e, kind && kind[0] ? kind : "info");
    ev_str(&e, "where", where ? where : "");
    ev_int(&e, "code", code);
    ev_str(&e, "text", text ? text : "");
    ev_end(&e);
    if (kind && strcmp(kind, "error") == 0)
        sim_say("error in %s: %s (%d)", where ? where : "?", text ? text : "", code);
    /* the wake report repeats it, so one line tells how the last wake ended */
    if (where && text && strcmp(where, "last_wake") == 0)
        snprintf(sim_sh->counts.last_wake, sizeof sim_sh->counts.last_wake, "%s", text);
}

/* ---- one boot ------------------------------------------------------------------------------ */

static bool fault_hits(int boots)
{
    return boots < 0 || (uint32_t)boots >= sim_sh->boot;
}

_Noreturn void sim_child_main(void)
{
    sim_feed();
    if (fault_hits(sim_w.firmware_crash)) {
        /* the chip's exception handler resets it; abort() rather than a real wild pointer so
         * that a sanitizer build does not report the injected fault as a bug */
        abort();
    }
    if (fault_hits(sim_w.firmware_hang)) {
        /* stuck before the first call that feeds the watchdog */
        for (;;)
            pause();
    }
    app_setup = portal_run;   /* the set-up page at power-on (docs/portal.md) */
    app_main();
    /* The app returned: as MicroPython after main.py, the board stays awake and runs its
     * console (the REPL). Tell the hardware, then serve the console until RESET or power off. */
    sim_console_flush();
    leds_show();
    sim_sh->request = REQ_IDLE;
    char b = 'i';
    if (write(sim_notify_fd, &b, 1) < 0) {
        /* the parent polls the request too; nothing else to do */
    }
    console_main();
}
