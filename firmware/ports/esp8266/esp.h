/*
 * esp.h - what the ESP8266 port's files share (ports/esp8266). The firmware sees only hal.h;
 * the lwIP glue sees lwip_port.h. Everything here is thin glue over Espressif's NONOS SDK
 * v3.0.6; nothing of it has run on a chip (docs/esp8266.md).
 */
#ifndef BH_ESP_H
#define BH_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/flash.h"
#include "hal/hal.h"

/* The flash region the file system lives in (its address goes into esptool's command:
 * scripts/esp8266-build.sh reads these two lines). 256 KB at 2 MB on a 4 MB NodeMCU, well
 * above the 0x10000.bin code (at most 0x5C000 bytes from 0x10000) and below the SDK's
 * parameter sectors at the top. */
#define ESP_FS_ADDR 0x200000u
#define ESP_FS_SIZE 0x40000u

/* The port's own 20 bytes of RTC memory, after the contract's 492 (RTC user memory is 512
 * bytes from block 64; a block is 4 bytes). */
#define ESP_RTC_USER_BLOCK 64u
#define ESP_RTC_PORT_BLOCK (ESP_RTC_USER_BLOCK + HAL_RTC_SIZE / 4u)

/* main.c */
void esp_console_init(void);
/* board.c */
void esp_board_init(void);
const bh_flash *esp_flash(void);   /* the file system's region */
/* wifi.c */
void esp_wifi_init(void);
/* loadfix.c: byte and halfword loads from flash completed (EXCCAUSE 3), first thing in
 * user_pre_init; loadprobe.c: checks them at boot, a phrase for the boot line (in buf when
 * it names a failure) */
void esp_loadfix_install(void);
const char *esp_loadprobe(char *buf, size_t cap);

#endif
