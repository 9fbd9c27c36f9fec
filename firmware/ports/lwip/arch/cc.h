/*
 * arch/cc.h - lwIP's compiler and platform glue for the bare-metal lwIP boards: GCC, little
 * endian, no printf of its own. An lwIP assertion is a firmware bug: it is printed on the
 * console and the board resets (hal_reset), as a crash on a real chip would.
 */
#ifndef BH_LWIP_ARCH_CC_H
#define BH_LWIP_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_NO_INTTYPES_H 0
#define LWIP_NO_LIMITS_H 0
#define LWIP_NO_CTYPE_H 0

uint32_t bhl_rand(void);
void bhl_assert(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) bhl_assert((x), __FILE__, __LINE__)

#endif
