/*
 * veneers.c - long-call bridges from Debian's picolibc to the ESP8266's ROM.
 *
 * Debian builds picolibc for the lx106 without -mlongcalls, so its calls reach only 512 KB
 * around the caller. Placed in flash (.irom0.text, with the rest of the C library), they
 * cannot reach the ROM's memset, division helpers and string functions at 0x4000xxxx. The
 * build renames those calls in its copy of picolibc to bh_v_<name> (objcopy --redefine-sym,
 * scripts/esp8266-build.sh) and links these small functions next to it; each is compiled
 * with -mlongcalls, so its own call reaches the ROM. This file is linked as an object, not
 * from an archive, where the ROM script's PROVIDE would already have satisfied the names.
 * The list must match VENEERS in scripts/esp8266-build.sh.
 */
#include <stddef.h>
#include <string.h>

#define FLASH __attribute__((section(".irom0.text")))

FLASH void *bh_v_memset(void *d, int c, size_t n) { return memset(d, c, n); }
FLASH void *bh_v_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
FLASH void *bh_v_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
FLASH int bh_v_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }
FLASH size_t bh_v_strlen(const char *s) { return strlen(s); }
FLASH int bh_v_strcmp(const char *a, const char *b) { return strcmp(a, b); }
FLASH int bh_v_strncmp(const char *a, const char *b, size_t n) { return strncmp(a, b, n); }
FLASH char *bh_v_strcpy(char *d, const char *s) { return strcpy(d, s); }
FLASH char *bh_v_strncpy(char *d, const char *s, size_t n) { return strncpy(d, s, n); }
FLASH char *bh_v_strstr(const char *h, const char *n) { return strstr(h, n); }

/* the compiler turns each body into a call of the ROM helper of the same operation */
FLASH int bh_v___divsi3(int a, int b) { return a / b; }
FLASH int bh_v___modsi3(int a, int b) { return a % b; }
FLASH unsigned bh_v___udivsi3(unsigned a, unsigned b) { return a / b; }
FLASH unsigned bh_v___umodsi3(unsigned a, unsigned b) { return a % b; }
FLASH long long bh_v___divdi3(long long a, long long b) { return a / b; }
FLASH unsigned long long bh_v___udivdi3(unsigned long long a, unsigned long long b) { return a / b; }
FLASH unsigned long long bh_v___umoddi3(unsigned long long a, unsigned long long b) { return a % b; }
FLASH long long bh_v___muldi3(long long a, long long b) { return a * b; }

/* The SDK's libraries were built against newlib and read its ctype table through
 * __ctype_ptr__; picolibc's _ctype_ has the same layout (one entry for EOF first). */
extern const char _ctype_[];
const char *__ctype_ptr__ = _ctype_;
