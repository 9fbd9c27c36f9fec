/* test_esp_wordio.c - the ESP8266 port's byte ranges over word-only memories
 * (firmware/ports/esp8266/wordio.c), on fake SPI flash and RTC memory that take whole
 * aligned words only, as the SDK's spi_flash_* and system_rtc_mem_* do. What a user would
 * notice if this were wrong: config.py or the press queue read back with bytes shifted, or
 * a write that changes its neighbours' bytes. */
#include <stdint.h>
#include <string.h>

#include "../../firmware/ports/esp8266/wordio.c"
#include "testboard.h"

#define MEM 1024
static uint8_t mem[MEM];
static int calls, misaligned, fail_at;

static bool aligned(uint32_t addr, const uint32_t *words, uint32_t size)
{
    calls++;
    if (addr % 4 || size % 4 || (uintptr_t)words % 4 || size == 0 || addr + size > MEM) {
        misaligned++;
        return false;
    }
    return fail_at == 0 || calls < fail_at;
}

static bool mem_read(uint32_t addr, uint32_t *words, uint32_t size)
{
    if (!aligned(addr, words, size))
        return false;
    memcpy(words, mem + addr, size);
    return true;
}

static bool flash_program(uint32_t addr, uint32_t *words, uint32_t size)
{
    if (!aligned(addr, words, size))
        return false;
    for (uint32_t i = 0; i < size; i++)
        mem[addr + i] &= ((uint8_t *)words)[i];   /* NOR: programming only clears bits */
    return true;
}

static bool ram_write(uint32_t addr, uint32_t *words, uint32_t size)
{
    if (!aligned(addr, words, size))
        return false;
    memcpy(mem + addr, words, size);
    return true;
}

static void fill(uint8_t seed)
{
    for (int i = 0; i < MEM; i++)
        mem[i] = (uint8_t)(i * 7 + seed);
}

/* every start offset 0..8 and lengths around the 64-byte window: the bytes read are the
 * memory's, through aligned calls only */
static void reads(void)
{
    uint8_t buf[200];
    fill(3);
    for (uint32_t off = 0; off < 9; off++)
        for (size_t len = 0; len < sizeof buf; len += (len < 70 ? 1 : 37)) {
            memset(buf, 0xAA, sizeof buf);
            CHECK_INT(esp_words_read(mem_read, 100 + off, buf, len), BH_OK);
            CHECK(memcmp(buf, mem + 100 + off, len) == 0);
            CHECK(len == sizeof buf || buf[len] == 0xAA);   /* nothing past the request */
        }
    CHECK_INT(misaligned, 0);
}

/* programming erased flash writes exactly the bytes asked, whatever the alignment, and
 * leaves the erased bytes around them erased */
static void programs(void)
{
    uint8_t data[150], want[MEM];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0x5A ^ i);
    for (uint32_t off = 0; off < 9; off++)
        for (size_t len = 1; len < sizeof data; len += 13) {
            memset(mem, 0xFF, MEM);
            memcpy(want, mem, MEM);
            memcpy(want + 300 + off, data, len);
            CHECK_INT(esp_words_program(flash_program, 300 + off, data, len), BH_OK);
            CHECK(memcmp(mem, want, MEM) == 0);
        }
    CHECK_INT(misaligned, 0);
}

/* RTC memory: a write changes its bytes only; the rest of the words it shares keep theirs */
static void updates(void)
{
    uint8_t data[100], want[MEM];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0xC3 + i);
    for (uint32_t off = 0; off < 9; off++)
        for (size_t len = 1; len < sizeof data; len += 7) {
            fill((uint8_t)(off + len));
            memcpy(want, mem, MEM);
            memcpy(want + 20 + off, data, len);
            CHECK_INT(esp_words_update(mem_read, ram_write, 20 + off, data, len), BH_OK);
            CHECK(memcmp(mem, want, MEM) == 0);
        }
    CHECK_INT(misaligned, 0);
}

/* the memory refusing a call is BH_ERR_IO, from any of the three */
static void failures(void)
{
    uint8_t buf[100] = {0};
    calls = 0, fail_at = 2;
    CHECK_INT(esp_words_read(mem_read, 1, buf, sizeof buf), BH_ERR_IO);
    calls = 0;
    CHECK_INT(esp_words_program(flash_program, 1, buf, sizeof buf), BH_ERR_IO);
    calls = 0;
    CHECK_INT(esp_words_update(mem_read, ram_write, 1, buf, sizeof buf), BH_ERR_IO);
    fail_at = 0;
}

int main(void)
{
    tb_reset();
    reads();
    programs();
    updates();
    failures();
    return tb_done("test_esp_wordio");
}
