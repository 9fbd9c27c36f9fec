/* fuzz_tls_kept.c - the TLS session record the port reads back from RTC memory
 * (firmware/ports/common/tls_kept.c): any bytes there, after a brown-out or another firmware,
 * must be ignored or decoded within bounds. The first input byte chooses how the rest goes
 * in: odd, as it is (almost always a failed check: ignored); even, with the keyed check made
 * right for the host and CAs (what a valid check over nonsense would do), so that decoding
 * goes all the way. A record that decodes must encode back to the same bytes, and its
 * lifetime field must read back as written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ports/common/tls_kept.h"

static const char HOST[] = "hooks.example";
static const uint8_t CA[32] = {0xca, 0xfe, 1, 2, 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    uint8_t r[HAL_RTC_TLS_SIZE];
    memset(r, 0, sizeof r);
    memcpy(r, data + 1, size - 1 < sizeof r ? size - 1 : sizeof r);
    if (!(mode & 1) && r[3] <= TLS_KEPT_DATA_MAX)
        tls_kept_check(r, HOST, CA, r + 4);

    tls_kept k;
    int rc = tls_kept_decode(r, HOST, CA, &k);
    if (rc == TLS_KEPT_OK) {
        if ((k.len == 0 && (!k.no_tickets || k.ticket)) || k.len > TLS_KEPT_DATA_MAX ||
            (!k.ticket && k.len > 32) || (k.ticket && k.no_tickets))
            abort();
        uint8_t again[HAL_RTC_TLS_SIZE];
        tls_kept_encode(&k, HOST, CA, again);
        if (memcmp(again, r, TLS_KEPT_DATA + k.len) != 0)
            abort();
    }
    uint32_t left;
    if (tls_kept_get_left(r, &left) == TLS_KEPT_OK) {
        uint32_t v = left / 2, back;
        tls_kept_set_left(r, v);
        if (tls_kept_get_left(r, &back) != TLS_KEPT_OK || back != v)
            abort();
    }
    return 0;
}
