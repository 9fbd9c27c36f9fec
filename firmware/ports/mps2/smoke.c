/*
 * smoke.c - the board's smoke program (bh_mps2_smoke.elf), run by tests/mps2/smoke.sh: each
 * line it prints is one thing the test checks. Boot parameters, RTC memory and flash kept
 * between runs, LEDs, the LAN9118 both ways (a DHCP DISCOVER out as a raw frame, QEMU's
 * DHCP OFFER back), random bytes, then a console command: 'c' crashes, 'h' hangs (the
 * watchdog ends it), 'r' resets; anything else or nothing in 300 ms: deep sleep 5000 ms.
 */
#include <stdio.h>
#include <string.h>

#include "lwip_port.h"
#include "mps2.h"

/* The lwIP glue's wait loop is not linked here: this stand-in only feeds the watchdog. */
void bhl_poll(void)
{
    hal_wdt_feed();
}

/* nor its resolver: a dns= boot parameter has nothing to go to */
void bhl_dns_override(uint32_t ip, uint16_t port)
{
    (void)ip, (void)port;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    hal_console_write("smoke: ", 7);
    hal_console_write(line, (size_t)n);
}

static void wait_ms(uint32_t ms)
{
    uint32_t start = hal_millis();
    while (hal_millis() - start < ms) {
        bhl_poll();
        port_idle();
    }
}

/* ---- RTC memory and flash kept across runs -------------------------------------------- */

static void check_rtc(void)
{
    uint32_t boots;
    hal_rtc_read(0, &boots, sizeof boots);
    say("rtc boots %lu", (unsigned long)boots);
    boots++;
    if (hal_rtc_write(0, &boots, sizeof boots) < 0)
        say("rtc write failed");
}

static void check_flash(void)
{
    const bh_flash *f = mps2_flash();
    /* sector 0 counts runs as programmed bytes: each run clears the next erased byte */
    uint8_t sec[MPS2_FLASH_SECTOR];
    f->read(0, sec, sizeof sec);
    uint32_t n = 0;
    while (n < sizeof sec && sec[n] == 0x00)
        n++;
    say("flash boots %lu", (unsigned long)n);
    if (n == sizeof sec) {
        f->erase(0);
        n = 0;
    }
    uint8_t zero = 0;
    if (f->program(n, &zero, 1) < 0)
        say("flash program failed");
    /* NOR: programming ANDs; erasing sets all ones */
    uint8_t a = 0xF0, b = 0x3C, got = 0, erased = 0;
    uint32_t off = f->size - f->sector;
    f->erase(off);
    f->program(off + 7, &a, 1);
    f->program(off + 7, &b, 1);
    f->read(off + 7, &got, 1);
    f->erase(off);
    f->read(off + 7, &erased, 1);
    say("flash nor 0x%02x then 0x%02x", got, erased);
    say("flash range %d", f->read(f->size - 1, &got, 2));
}

/* ---- Ethernet: a DHCP DISCOVER out, QEMU's OFFER in ------------------------------------- */

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

#define XID 0x42480001u

static size_t dhcp_discover(uint8_t *f, const uint8_t mac[6])
{
    memset(f, 0, 342);
    memset(f, 0xFF, 6);                 /* Ethernet: to broadcast */
    memcpy(f + 6, mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *udp = ip + 20, *bootp = udp + 8;
    size_t bootp_len = 300, udp_len = 8 + bootp_len, ip_len = 20 + udp_len;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)ip_len);
    ip[8] = 64;
    ip[9] = 17;                         /* UDP, 0.0.0.0 -> 255.255.255.255 */
    memset(ip + 16, 0xFF, 4);
    put16(ip + 10, ip_checksum(ip, 20));
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, (uint16_t)udp_len);  /* checksum 0: none, allowed over IPv4 */
    bootp[0] = 1;                       /* BOOTREQUEST, Ethernet, 6-byte address */
    bootp[1] = 1;
    bootp[2] = 6;
    bootp[4] = XID >> 24;
    bootp[5] = XID >> 16 & 0xFF;
    bootp[6] = XID >> 8 & 0xFF;
    bootp[7] = XID & 0xFF;
    put16(bootp + 10, 0x8000);          /* answer by broadcast: we have no address yet */
    memcpy(bootp + 28, mac, 6);
    static const uint8_t opts[] = {99, 130, 83, 99, 53, 1, 1, 55, 3, 1, 3, 6, 255};
    memcpy(bootp + 236, opts, sizeof opts);
    return 14 + ip_len;
}

/* The DHCP message type of a frame if it is the answer to our DISCOVER, else 0. */
static int dhcp_answer(const uint8_t *f, size_t len, uint32_t *yiaddr, uint32_t *server)
{
    if (len < 14 + 20 + 8 + 240 || f[12] != 0x08 || f[13] != 0x00)
        return 0;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
    if (ip[9] != 17 || len < 14 + ihl + 8 + 240)
        return 0;
    const uint8_t *udp = ip + ihl, *bootp = udp + 8;
    if (udp[2] != 0 || udp[3] != 68 || bootp[0] != 2 ||
        memcmp(bootp + 4, (const uint8_t[]){XID >> 24, XID >> 16 & 0xFF, XID >> 8 & 0xFF,
                                            XID & 0xFF}, 4) != 0)
        return 0;
    *yiaddr = (uint32_t)bootp[16] << 24 | (uint32_t)bootp[17] << 16 |
              (uint32_t)bootp[18] << 8 | bootp[19];
    int type = 0;
    const uint8_t *o = bootp + 240, *end = f + len;
    while (o < end && *o != 255) {
        if (*o == 0) {
            o++;
            continue;
        }
        if (o + 2 > end || o + 2 + o[1] > end)
            break;
        if (o[0] == 53 && o[1] == 1)
            type = o[2];
        if (o[0] == 54 && o[1] == 4)
            *server = (uint32_t)o[2] << 24 | (uint32_t)o[3] << 16 | (uint32_t)o[4] << 8 | o[5];
        o += 2 + o[1];
    }
    return type;
}

static void check_eth(void)
{
    int rc = port_eth_init();
    say("eth init %d link %d", rc, port_eth_link());
    if (rc < 0)
        return;
    uint8_t mac[6], frame[1536];
    port_eth_mac(mac);
    size_t len = dhcp_discover(frame, mac);
    rc = port_eth_output(frame, len);
    say("dhcp discover sent %d (%u bytes)", rc, (unsigned)len);
    uint32_t start = hal_millis(), frames = 0;
    while (hal_millis() - start < 3000) {
        int n = port_eth_input(frame, sizeof frame);
        if (n == 0) {
            bhl_poll();
            port_idle();
            continue;
        }
        frames++;
        uint32_t yi = 0, server = 0;
        if (dhcp_answer(frame, (size_t)n, &yi, &server) == 2) {
            say("dhcp offer %lu.%lu.%lu.%lu from %lu.%lu.%lu.%lu after %lu ms",
                (unsigned long)(yi >> 24), (unsigned long)(yi >> 16 & 0xFF),
                (unsigned long)(yi >> 8 & 0xFF), (unsigned long)(yi & 0xFF),
                (unsigned long)(server >> 24), (unsigned long)(server >> 16 & 0xFF),
                (unsigned long)(server >> 8 & 0xFF), (unsigned long)(server & 0xFF),
                (unsigned long)(hal_millis() - start));
            return;
        }
    }
    say("dhcp no offer (%lu other frames)", (unsigned long)frames);
}

int main(void)
{
    mps2_board_init();
    uint32_t slept = 0;
    int src = hal_slept_ms(&slept);
    say("cause %d slept %ld", (int)hal_reset_cause(), src == 0 ? (long)slept : (long)src);
    hal_pin_mode(14, HAL_PIN_IN, HAL_PULL_UP);
    say("gpio14 %d valid6 %d", hal_pin_read(14), hal_pin_valid(6));

    check_rtc();
    check_flash();

    /* the blink a person would see: D4 (GPIO2) twice, then D0 (GPIO16) once */
    hal_pin_mode(2, HAL_PIN_OUT, HAL_PULL_NONE);
    for (int i = 0; i < 2; i++) {
        hal_pin_write(2, 0);
        wait_ms(100);
        hal_pin_write(2, 1);
        wait_ms(100);
    }
    hal_pin_mode(16, HAL_PIN_OUT, HAL_PULL_NONE);
    hal_pin_write(16, 0);
    wait_ms(50);
    hal_pin_write(16, 1);
    wait_ms(10);

    check_eth();

    uint8_t r[8];
    hal_random(r, sizeof r);
    say("random %02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6],
        r[7]);
    uint8_t digest[20];
    say("sha1 %d", hal_sha1("abc", 3, digest));
    hal_report("info", "smoke", 0, "done");

    char cmd[8];
    int n = hal_console_read(cmd, sizeof cmd, 300);
    if (n > 0 && cmd[0] == 'c') {
        say("crashing");
        __asm__ volatile("udf #0");
    } else if (n > 0 && cmd[0] == 'h') {
        say("hanging");
        for (;;)
            ;
    } else if (n > 0 && cmd[0] == 'r') {
        hal_reset();
    }
    hal_deep_sleep(5000);
}
