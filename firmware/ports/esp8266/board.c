/*
 * board.c - the ESP8266's board half of the contract over the NONOS SDK: pins through the IO
 * mux (GPIO16 through the RTC block), reset cause, deep sleep, RTC memory, the file system's
 * flash region, random numbers, SHA-1. Register addresses are the SDK's eagle_soc.h ones.
 * Nothing here has run on a chip (docs/esp8266.md).
 */
#include <string.h>

#include "esp.h"
#include "wordio.h"
#include "ports/lwip/bhl.h"

#include "eagle_soc.h"
#include "ets_sys.h"
#include "mbedtls/sha1.h"
#include "spi_flash.h"
#include "user_interface.h"

/* ---- pins ------------------------------------------------------------------------------- */

bool hal_pin_valid(int gpio)
{
    /* 6-8 and 11 are the flash chip's; 1 and 3 are UART0 (the console), as MicroPython
     * allows them too */
    return (gpio >= 0 && gpio <= 5) || gpio == 9 || gpio == 10 || (gpio >= 12 && gpio <= 16);
}

/* each GPIO's IO mux register and the function number that makes it a GPIO */
static const uint8_t mux_off[16] = {0x34, 0x18, 0x38, 0x14, 0x3C, 0x40, 0, 0, 0, 0x1C, 0x20,
                                    0, 0x04, 0x08, 0x0C, 0x10};
static uint8_t gpio_func(int g)
{
    return (g == 0 || g == 2 || g == 4 || g == 5) ? 0 : 3;
}

#define GPIO_REG(off) (*(volatile uint32_t *)(PERIPHS_GPIO_BASEADDR + (off)))
#define RTC_REG(off) (*(volatile uint32_t *)(PERIPHS_RTC_BASEADDR + (off)))
/* GPIO16 (XPD_DCDC) lives in the RTC block: its mux, output, enable and input */
#define RTC_XPD_DCDC_CONF 0xA0
#define RTC_GPIO_OUT_R 0x68
#define RTC_GPIO_ENABLE_R 0x74
#define RTC_GPIO_IN_R 0x8C
#define RTC_GPIO_CONF_R 0x90

int hal_pin_mode(int gpio, int mode, int pull)
{
    if (!hal_pin_valid(gpio) || mode < HAL_PIN_IN || mode > HAL_PIN_OPEN_DRAIN ||
        (pull != HAL_PULL_NONE && pull != HAL_PULL_UP))
        return BH_ERR_ARG;
    if (gpio == 16) {
        if (pull != HAL_PULL_NONE)
            return BH_ERR_UNSUPPORTED;   /* "Pin(16) doesn't support pull" */
        RTC_REG(RTC_XPD_DCDC_CONF) = (RTC_REG(RTC_XPD_DCDC_CONF) & 0xFFFFFFBCu) | 1u;
        RTC_REG(RTC_GPIO_CONF_R) &= ~1u;
        /* no open-drain driver on GPIO16: MicroPython makes that mode an input */
        if (mode == HAL_PIN_OUT) {
            RTC_REG(RTC_GPIO_OUT_R) |= 1u;   /* high first: the LED stays off */
            RTC_REG(RTC_GPIO_ENABLE_R) |= 1u;
        } else {
            RTC_REG(RTC_GPIO_ENABLE_R) &= ~1u;
        }
        return BH_OK;
    }
    uint32_t mux = PERIPHS_IO_MUX + mux_off[gpio];
    PIN_FUNC_SELECT(mux, gpio_func(gpio));
    if (pull == HAL_PULL_UP)
        PIN_PULLUP_EN(mux);
    else
        PIN_PULLUP_DIS(mux);
    uint32_t pin = GPIO_PIN_ADDR(gpio) - PERIPHS_GPIO_BASEADDR;
    if (mode == HAL_PIN_OPEN_DRAIN)
        GPIO_REG(pin) |= 4u;    /* pad driver: open drain */
    else
        GPIO_REG(pin) &= ~4u;
    if (mode == HAL_PIN_IN)
        GPIO_REG(GPIO_ENABLE_W1TC_ADDRESS) = 1u << gpio;
    else
        GPIO_REG(GPIO_ENABLE_W1TS_ADDRESS) = 1u << gpio;
    return BH_OK;
}

int hal_pin_write(int gpio, int value)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    if (gpio == 16) {
        RTC_REG(RTC_GPIO_OUT_R) = (RTC_REG(RTC_GPIO_OUT_R) & ~1u) | (value ? 1u : 0u);
        return BH_OK;
    }
    GPIO_REG(value ? GPIO_OUT_W1TS_ADDRESS : GPIO_OUT_W1TC_ADDRESS) = 1u << gpio;
    return BH_OK;
}

int hal_pin_read(int gpio)
{
    if (!hal_pin_valid(gpio))
        return BH_ERR_ARG;
    if (gpio == 16)
        return (int)(RTC_REG(RTC_GPIO_IN_R) & 1u);
    return (int)((GPIO_REG(GPIO_IN_ADDRESS) >> gpio) & 1u);
}

/* ---- reset cause, deep sleep, reset ----------------------------------------------------- */

hal_reset_cause_t hal_reset_cause(void)
{
    /* the SDK's rst_info reasons are the contract's numbers (REASON_DEFAULT_RST = 0 ...
     * REASON_EXT_SYS_RST = 6) */
    struct rst_info *r = system_get_rst_info();
    return r && r->reason <= REASON_EXT_SYS_RST ? (hal_reset_cause_t)r->reason : HAL_RESET_PWRON;
}

/* What the port keeps in its own RTC memory across deep sleep: the RTC counter and its
 * calibration (µs per tick, Q12) when it went to sleep. The counter runs in deep sleep. */
typedef struct {
    uint32_t magic, rtc_ticks, cali, sleeps, check;   /* sleeps: since the last full RF cal */
} esp_sleep_note;

/* The energy model (docs/energy-model.md, "Boot"): no full RF calibration at a deep-sleep
 * wake (113 ms to user code instead of about 313), but one every 100th wake, as the trace it
 * cites does, so that the radio follows temperature and supply. system_deep_sleep_set_option:
 * 2 = no RF calibration at the wake, 3 = a full one. */
#define WAKE_RF_CAL_NONE 2
#define WAKE_RF_CAL_FULL 3
#define WAKES_PER_FULL_CAL 100
#define SLEEP_MAGIC 0x42485331u

static uint32_t note_check(const esp_sleep_note *n)
{
    return n->magic ^ n->rtc_ticks ^ n->cali ^ n->sleeps ^ 0xA5A5A5A5u;
}

int hal_slept_ms(uint32_t *ms)
{
    if (!ms)
        return BH_ERR_ARG;
    esp_sleep_note n;
    if (hal_reset_cause() != HAL_RESET_DEEPSLEEP ||
        !system_rtc_mem_read(ESP_RTC_PORT_BLOCK, &n, sizeof n) || n.magic != SLEEP_MAGIC ||
        n.check != note_check(&n))
        return BH_ERR_UNSUPPORTED;
    uint32_t now = system_get_rtc_time();
    if (now < n.rtc_ticks)
        return BH_ERR_UNSUPPORTED;   /* the counter restarted (RST held, brown-out) or wrapped */
    uint32_t ticks = now - n.rtc_ticks;
    *ms = (uint32_t)(((uint64_t)ticks * n.cali >> 12) / 1000u);
    return BH_OK;
}

/* VCC through the ADC in its VCC mode: byte 107 of the PHY init data must be 255, which the
 * SDK's default init data is not (0: the TOUT pin); make esp8266 writes a copy with it set
 * (esp_init_data_vdd33.bin, flashed at 0x3FC000). In TOUT mode the SDK answers 65535, which
 * is no reading: BH_ERR_UNSUPPORTED. The unit is 1/1024 V. */
int hal_supply_mv(uint16_t *mv)
{
    if (!mv)
        return BH_ERR_ARG;
    uint32_t v = system_get_vdd33();
    if (v >= 0xFFFFu)
        return BH_ERR_UNSUPPORTED;
    *mv = (uint16_t)(v * 1000u / 1024u);
    return BH_OK;
}

_Noreturn void hal_deep_sleep(uint32_t ms)
{
    esp_sleep_note n;
    uint32_t sleeps = 0;
    if (system_rtc_mem_read(ESP_RTC_PORT_BLOCK, &n, sizeof n) && n.magic == SLEEP_MAGIC &&
        n.check == note_check(&n))
        sleeps = n.sleeps + 1;
    bool full_cal = sleeps >= WAKES_PER_FULL_CAL;
    n = (esp_sleep_note){SLEEP_MAGIC, system_get_rtc_time(), system_rtc_clock_cali_proc(),
                         full_cal ? 0 : sleeps, 0};
    n.check = note_check(&n);
    system_rtc_mem_write(ESP_RTC_PORT_BLOCK, &n, sizeof n);
    system_deep_sleep_set_option(full_cal ? WAKE_RF_CAL_FULL : WAKE_RF_CAL_NONE);
    /* 0 sleeps until RESET; the timer wakes through GPIO16 wired to RST */
    system_deep_sleep((uint64)ms * 1000u);
    for (;;)   /* the SDK sleeps once control returns to its tasks */
        bhl_wait_step();
}

_Noreturn void hal_reset(void)
{
    system_restart();
    for (;;)
        bhl_wait_step();
}

/* ---- RTC memory: 492 bytes from user block 64 ------------------------------------------- */

/* system_rtc_mem_* move whole 4-byte blocks (wordio.c splits a request into them); the
 * contract's byte offsets count from block 64, the user area's first. */
static bool rtc_words_read(uint32_t addr, uint32_t *words, uint32_t size)
{
    return system_rtc_mem_read((uint8)(ESP_RTC_USER_BLOCK + addr / 4u), words, (uint16)size);
}

static bool rtc_words_write(uint32_t addr, uint32_t *words, uint32_t size)
{
    return system_rtc_mem_write((uint8)(ESP_RTC_USER_BLOCK + addr / 4u), words, (uint16)size);
}

int hal_rtc_read(size_t off, void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off || (!buf && len))
        return BH_ERR_ARG;
    return esp_words_read(rtc_words_read, (uint32_t)off, buf, len);
}

int hal_rtc_write(size_t off, const void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off || (!buf && len))
        return BH_ERR_ARG;
    return esp_words_update(rtc_words_read, rtc_words_write, (uint32_t)off, buf, len);
}

/* ---- the file system's flash region ----------------------------------------------------- */

/* spi_flash_read/write want 4-byte aligned addresses, buffers and sizes: wordio.c turns the
 * file system's byte-granular requests into those. */
static bool flash_words_read(uint32_t addr, uint32_t *words, uint32_t size)
{
    return spi_flash_read(ESP_FS_ADDR + addr, words, size) == SPI_FLASH_RESULT_OK;
}

static bool flash_words_write(uint32_t addr, uint32_t *words, uint32_t size)
{
    system_soft_wdt_feed();   /* a program takes up to about 0.8 ms per 256 bytes */
    return spi_flash_write(ESP_FS_ADDR + addr, words, size) == SPI_FLASH_RESULT_OK;
}

static int flash_read(uint32_t off, void *buf, size_t len)
{
    return off > ESP_FS_SIZE || len > ESP_FS_SIZE - off ? BH_ERR_IO
                                                       : esp_words_read(flash_words_read, off, buf, len);
}

static int flash_program(uint32_t off, const void *buf, size_t len)
{
    return off > ESP_FS_SIZE || len > ESP_FS_SIZE - off
               ? BH_ERR_IO
               : esp_words_program(flash_words_write, off, buf, len);
}

static int flash_erase(uint32_t off)
{
    if (off >= ESP_FS_SIZE || off % SPI_FLASH_SEC_SIZE)
        return BH_ERR_IO;   /* never a sector outside the region: the firmware is there */
    system_soft_wdt_feed();
    return spi_flash_erase_sector((uint16)((ESP_FS_ADDR + off) / SPI_FLASH_SEC_SIZE)) ==
                   SPI_FLASH_RESULT_OK ? BH_OK : BH_ERR_IO;
}

static const bh_flash region = {ESP_FS_SIZE, SPI_FLASH_SEC_SIZE, flash_read, flash_erase,
                                flash_program};

const bh_flash *esp_flash(void)
{
    return &region;
}

/* ---- random numbers, SHA-1 -------------------------------------------------------------- */

/* The chip's hardware random number generator (what the SDK's os_random() reads), fed by
 * radio noise: unpredictable only while the radio is on, as Espressif documents, so boot
 * and sleep wakes draw after the radio started (the SDK starts it before user_init). */
#define RNG_REG (*(volatile uint32_t *)0x3FF20E44u)

void hal_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t v = RNG_REG;
        size_t n = len < 4 ? len : 4;
        memcpy(p, &v, n);
        p += n, len -= n;
    }
}

/* The SDK's mbedTLS has SHA-1 (libmbedtls.a, sha1.o): WebREPL's handshake needs it. */
int hal_sha1(const void *data, size_t len, uint8_t out[20])
{
    mbedtls_sha1(data, len, out);
    return BH_OK;
}

void esp_board_init(void)
{
}
