/* bootargs.h - the mps2 board's boot parameters (bootargs.c, README.md). */
#ifndef BH_MPS2_BOOTARGS_H
#define BH_MPS2_BOOTARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

typedef struct {
    hal_reset_cause_t cause;  /* cause=N */
    bool slept_known;         /* slept_ms=N given */
    uint32_t slept_ms;
    bool jumper;              /* jumper=1: the D5 jumper is in (GPIO14 reads 0) */
    uint32_t hold_gpio;       /* hold=GPIO:MS: the button, also wired to GPIO, held down */
    uint32_t hold_ms;         /* until MS after the boot (GPIO reads 0); 0: not held */
    bool mac_set;             /* mac=aa:bb:cc:dd:ee:ff given */
    uint8_t mac[6];
    uint8_t seed[32];         /* seed=HEX: the host's fresh random bytes */
    size_t seed_len;
    uint32_t wdt_ms;          /* wdt=MS; 0 turns the software watchdog off */
    uint32_t dns_ip;          /* dns=A.B.C.D:PORT: the DNS server to use instead of DHCP's */
    uint16_t dns_port;        /* 0: none given */
} mps2_boot;

/* Parses a command line (as sh_cmdline gives it) into b, whose fields keep their values where
 * the line says nothing; 0, or -1 with a message naming the bad word in err (NUL-terminated,
 * errcap > 0). Unknown words are errors too, so a harness typo does not go unnoticed. */
int mps2_parse_cmdline(const char *line, mps2_boot *b, char *err, size_t errcap);

#endif
