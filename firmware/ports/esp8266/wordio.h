/*
 * wordio.h - byte-granular reads and writes over the ESP8266 SDK's word-only memories.
 *
 * spi_flash_read/write and system_rtc_mem_read/write move whole 32-bit words: the address,
 * the size and the buffer must all be multiples of 4. The file system and the application
 * read and write any byte range. These functions split a request into windows of whole
 * words through a small aligned buffer on the stack. No SDK call is made here: the port
 * passes the SDK's functions in, so the same code is built and tested on the host
 * (tests/unit/test_esp_wordio.c).
 */
#ifndef BH_ESP_WORDIO_H
#define BH_ESP_WORDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves size bytes (a multiple of 4) at addr (a multiple of 4) to or from words; true if
 * the memory took it. */
typedef bool (*esp_words_fn)(uint32_t addr, uint32_t *words, uint32_t size);

/* len bytes at addr into buf: 0 or BH_ERR_IO */
int esp_words_read(esp_words_fn read, uint32_t addr, void *buf, size_t len);
/* NOR flash: programs len bytes at addr; the bytes of the words around them are written as
 * 0xFF, which programming leaves unchanged (it only clears bits). 0 or BH_ERR_IO */
int esp_words_program(esp_words_fn write, uint32_t addr, const void *buf, size_t len);
/* RAM-like memory (RTC): len bytes at addr replaced, the rest of each word read and written
 * back unchanged. 0 or BH_ERR_IO */
int esp_words_update(esp_words_fn read, esp_words_fn write, uint32_t addr, const void *buf,
                     size_t len);

#endif
