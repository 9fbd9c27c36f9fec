/*
 * board.c - the rest of the board contract on mps2-an385: boot parameters from the
 * semihosting command line, pins and LEDs (as log lines), reset cause, deep sleep and reset
 * (QEMU exits), RTC memory (rtc.bin), random numbers, reports. README.md has the formats.
 */
#include <stdio.h>
#include <string.h>

#include "lwip_port.h"
#include "mps2.h"
#include "semihost.h"

static mps2_boot boot = {.wdt_ms = 8000};

const mps2_boot *mps2_boot_params(void)
{
    return &boot;
}

/* ---- pins and LEDs: GPIO0-16 as on the ESP8266 (the same rules as ports/sim) ---------- */

#define NPINS 17
static int8_t pin_mode[NPINS], pin_pull[NPINS], pin_latch[NPINS];
static int8_t led_on[NPINS];   /* what the harness was last told, for GPIO2 and GPIO16 */
static const int led_gpio[2] = {2, 16};

bool hal_pin_valid(int gpio)
{
    return (gpio >= 0 && gpio <= 5) || gpio == 9 || gpio == 10 || (gpio >= 12 && gpio <= 16);
}

/* Does the chip pull this pad low? That lights an active-low LED. GPIO16 has no open-drain
 * driver (MicroPython's esp8266 port makes that mode an input). */
static bool pad_driven_low(int gpio)
{
    int mode = pin_mode[gpio];
    if (pin_latch[gpio] != 0)
        return false;
    return mode == HAL_PIN_OUT || (mode == HAL_PIN_OPEN_DRAIN && gpio != 16);
}

/* LED changes are logged when the firmware lets time pass (it reads the clock, waits or ends
 * the wake), not at each pin write, as on ports/sim: a pin made an output before its first
 * write lights the LED for microseconds nobody sees. One line per change, with the time. */
static void leds_show(void)
{
    for (int i = 0; i < 2; i++) {
        int g = led_gpio[i];
        int on = pad_driven_low(g);
        if (on == led_on[g])
            continue;
        led_on[g] = (int8_t)on;
        mps2_log("GPIO%d -> %d (LED %s)", g, on ? 0 : 1, on ? "on" : "off");
    }
}

int hal_pin_mode(int gpio, int mode, int pull)
{
    if (!hal_pin_valid(gpio) || mode < HAL_PIN_IN || mode > HAL_PIN_OPEN_DRAIN ||
        (pull != HAL_PULL_NONE && pull != HAL_PULL_UP))
        return BH_ERR_ARG;
    if (gpio == 16 && pull != HAL_PULL_NONE)
        return BH_ERR_UNSUPPORTED;   /* "Pin(16) doesn't support pull" */
    pin_mode[gpio] = (int8_t)mode;
    pin_pull[gpio] = (int8_t)pull;
    if (gpio == 16)
        pin_latch[gpio] = 1;   /* MicroPython's pin_set(16, -1) drives it high */
    return BH_OK;
}

int hal_pin_write(int gpio, int value)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    if (gpio == 16 || pin_mode[gpio] == HAL_PIN_OUT || pin_mode[gpio] == HAL_PIN_OPEN_DRAIN)
        pin_latch[gpio] = value ? 1 : 0;
    return BH_OK;
}

int hal_pin_read(int gpio)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    int mode = pin_mode[gpio];
    if (mode == HAL_PIN_OUT ||
        (mode == HAL_PIN_OPEN_DRAIN && gpio != 16 && pin_latch[gpio] == 0))
        return pin_latch[gpio];
    if (gpio == 14 && boot.jumper)
        return 0;   /* the D5 jumper to GND wins over any pull-up */
    if (boot.hold_ms && gpio == (int)boot.hold_gpio && hal_millis() < boot.hold_ms)
        return 0;   /* the button held down (docs/press-kinds.md), until it is let go */
    if (pin_pull[gpio] == HAL_PULL_UP)
        return 1;
    /* the NodeMCU's own resistors: pull-ups on GPIO0 and GPIO2, GPIO16's LED to 3.3 V, a
     * pull-down on GPIO15; a floating pad reads 0 */
    return gpio == 0 || gpio == 2 || gpio == 16 ? 1 : 0;
}

/* ---- reset cause, sleep, reset ------------------------------------------------------------ */

hal_reset_cause_t hal_reset_cause(void)
{
    return boot.cause;
}

int hal_slept_ms(uint32_t *ms)
{
    if (!ms)
        return BH_ERR_ARG;
    if (!boot.slept_known)
        return BH_ERR_UNSUPPORTED;
    *ms = boot.slept_ms;
    return BH_OK;
}

/* The MPS2 boards have no supply monitor that QEMU models: the firmware sends {battery_mv}
 * empty and shows no low-battery pattern. */
int hal_supply_mv(uint16_t *mv)
{
    (void)mv;
    return BH_ERR_UNSUPPORTED;
}

_Noreturn void mps2_exit(int status)
{
    leds_show();
    sh_exit(status);
}

/* The lwIP glue may keep something for the next wake here (e.g. a TLS session in RTC
 * memory); nothing by default. */
__attribute__((weak)) void mps2_before_sleep(void)
{
}

_Noreturn void hal_deep_sleep(uint32_t ms)
{
    mps2_before_sleep();
    leds_show();
    if (ms == 0)
        mps2_log("deep sleep 0 ms (until RESET)");
    else
        mps2_log("deep sleep %lu ms", (unsigned long)ms);
    /* the harness reads how long from the file "sleep": the exit status cannot carry it */
    char text[16];
    int n = snprintf(text, sizeof text, "%lu\n", (unsigned long)ms);
    int fd = sh_open("sleep", SH_MODE_WB);
    if (fd < 0 || sh_write(fd, text, (size_t)n) != n || sh_close(fd) < 0)
        mps2_log("cannot write the file 'sleep'");
    mps2_exit(MPS2_EXIT_SLEEP);
}

_Noreturn void hal_reset(void)
{
    mps2_log("reset");
    mps2_exit(MPS2_EXIT_RESET);
}

/* ---- RTC memory: rtc.bin on the host, written through ------------------------------------- */

static uint8_t rtc[HAL_RTC_SIZE];
static int rtc_fd = -1;

/* A missing or wrong-sized rtc.bin reads as zeros (the harness deletes it at power-on, when a
 * real chip's RTC memory holds garbage that the app's checksums reject) and is rewritten. */
static void rtc_load(void)
{
    memset(rtc, 0, sizeof rtc);
    rtc_fd = sh_open("rtc.bin", SH_MODE_RPB);
    if (rtc_fd >= 0) {
        if (sh_flen(rtc_fd) == HAL_RTC_SIZE && sh_read(rtc_fd, rtc, sizeof rtc) == HAL_RTC_SIZE)
            return;
        mps2_log("rtc: rtc.bin is not %u bytes: RTC memory starts as zeros",
                 (unsigned)HAL_RTC_SIZE);
        memset(rtc, 0, sizeof rtc);
        sh_close(rtc_fd);
    } else if (boot.cause != HAL_RESET_PWRON) {
        mps2_log("rtc: no rtc.bin after a reset: RTC memory starts as zeros");
    }
    rtc_fd = sh_open("rtc.bin", SH_MODE_WPB);
    if (rtc_fd < 0 || sh_write(rtc_fd, rtc, sizeof rtc) != HAL_RTC_SIZE) {
        mps2_log("rtc: cannot create rtc.bin: RTC memory will not survive this wake");
        rtc_fd = -1;
    }
}

int hal_rtc_read(size_t off, void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off || (!buf && len))
        return BH_ERR_ARG;
    memcpy(buf, rtc + off, len);
    return BH_OK;
}

int hal_rtc_write(size_t off, const void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off || (!buf && len))
        return BH_ERR_ARG;
    memcpy(rtc + off, buf, len);
    if (rtc_fd < 0 || sh_seek(rtc_fd, (uint32_t)off) < 0 ||
        sh_write(rtc_fd, rtc + off, len) != (int)len)
        return BH_ERR_IO;
    return BH_OK;
}

/* ---- random numbers ------------------------------------------------------------------------ */

/* This board has no hardware random number generator, so the harness passes fresh bytes from
 * the host on every boot (seed=HEX) and the SysTick counter's phase at each call is mixed in.
 * xoshiro256** spreads them; it is not a cryptographic generator, which is enough for the
 * press ids it serves here. A real MCU would read its TRNG instead. */
static uint64_t rng[4];
static bool rng_ready;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

static uint64_t jitter(void)
{
    uint32_t cvr = *(volatile uint32_t *)0xE000E018u;   /* SysTick's current value */
    return (uint64_t)cvr << 32 | mps2_ticks();
}

void hal_random(void *buf, size_t len)
{
    if (!rng_ready) {
        uint64_t x = jitter();
        for (size_t i = 0; i < boot.seed_len; i++)
            x = rotl(x, 8) ^ splitmix(&x) ^ boot.seed[i];
        for (int i = 0; i < 4; i++)
            rng[i] = splitmix(&x);
        rng_ready = true;
    }
    rng[0] ^= jitter();
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t v = rng_next();
        size_t n = len < 8 ? len : 8;
        memcpy(p, &v, n);
        p += n;
        len -= n;
    }
}

/* No crypto library on this board (the ESP8266 has SHA-1 in its SDK): WebREPL's handshake,
 * the only user, reports it cannot run. */
int hal_sha1(const void *data, size_t len, uint8_t out[20])
{
    (void)data;
    (void)len;
    (void)out;
    return BH_ERR_UNSUPPORTED;
}

/* The station MAC of the contract is the Ethernet controller's (lan9118.c). */
void hal_radio_mac(uint8_t mac[6])
{
    port_eth_mac(mac);
}

/* ---- reports: one line each on the UART ---------------------------------------------------- */

static void report_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mps2_vlog("[report] ", fmt, ap);
    va_end(ap);
}

void hal_report(const char *kind, const char *where, int code, const char *text)
{
    report_line("%s %s %d %s", kind && kind[0] ? kind : "info", where && where[0] ? where : "-",
                code, text ? text : "");
}

/* ---- boot -------------------------------------------------------------------------------- */

static const char *cause_name(hal_reset_cause_t c)
{
    static const char *const names[] = {"PWRON_RESET", "WDT_RESET", "EXCEPTION_RESET",
                                        "SOFT_WDT_RESET", "SOFT_RESET", "DEEPSLEEP_RESET",
                                        "HARD_RESET"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "UNKNOWN";
}

void mps2_leds_show(void)
{
    leds_show();
}

void mps2_board_init(void)
{
    mps2_uart_init();
    mps2_clock_init();
    static char line[512];
    char err[96];
    if (sh_cmdline(line, sizeof line) < 0) {
        mps2_log("boot: no semihosting command line (run QEMU with -semihosting-config "
                 "enable=on,target=native,arg=...): booting as PWRON_RESET");
        line[0] = '\0';
    }
    if (mps2_parse_cmdline(line, &boot, err, sizeof err) < 0) {
        mps2_log("boot: %s in the command line '%s'", err, line);
        sh_exit(MPS2_EXIT_BADARGS);
    }
    mps2_log("boot: %s (cause=%d)%s%s", cause_name(boot.cause), (int)boot.cause,
             boot.jumper ? ", D5 jumper in" : "",
             boot.seed_len ? "" : ", no seed: hal_random is predictable");
    rtc_load();
    mps2_flash_load();
    if (boot.dns_port)
        bhl_dns_override(boot.dns_ip, boot.dns_port);
    mps2_wdt_start(boot.wdt_ms);
}
