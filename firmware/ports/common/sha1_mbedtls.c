/* sha1_mbedtls.c - hal_sha1() with mbedTLS, for the Linux-hosted ports and the test board. */
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>

#include "hal/hal.h"

int hal_sha1(const void *data, size_t len, uint8_t out[20])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_sha1(data, len, out) == 0 ? BH_OK : BH_ERR_IO;
#else
    return mbedtls_sha1_ret(data, len, out) == 0 ? BH_OK : BH_ERR_IO;
#endif
}
