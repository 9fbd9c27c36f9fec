/*
 * sha1_lwip.c - hal_sha1() for the unit tests on the ESP8266's CPU, with the SHA-1 that lwIP
 * bundles (PolarSSL's, the ancestor of mbedTLS; $LWIP_DIR/src/netif/ppp/polarssl/sha1.c,
 * taken by path, not copied). The x86 tests use Debian's mbedTLS (ports/common/sha1_mbedtls.c),
 * which is not built for lx106; a firmware port on the chip would use its SDK's or lwIP's.
 */
#include <limits.h>

#include "netif/ppp/polarssl/sha1.h"

#include "hal/hal.h"

int hal_sha1(const void *data, size_t len, uint8_t out[20])
{
    if (len > INT_MAX)   /* PolarSSL's length is an int */
        return BH_ERR_IO;
    sha1_context ctx;
    sha1_starts(&ctx);
    sha1_update(&ctx, data, (int)len);
    sha1_finish(&ctx, out);
    return BH_OK;
}
