/* fuzz_dns_msg.c - dnsmsg_answer(), the lwIP boards' DNS reply reader, on arbitrary bytes.
 * The input is "name\0reply"; the reply's own first two bytes are taken as the query's id so
 * that the fuzzer gets past the id check. Besides the sanitizers: an answer read as an address
 * was a reply (QR set) to a query for a name dnsmsg_query() accepts. */
#include <stdint.h>
#include <string.h>

#include "hal/hal.h"
#include "ports/lwip/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char name[300];
    static uint8_t q[DNSMSG_MAX];
    const uint8_t *nul = memchr(data, 0, size < sizeof name ? size : sizeof name);
    if (!nul)
        return 0;
    size_t nl = (size_t)(nul - data);
    memcpy(name, data, nl + 1);
    const uint8_t *msg = nul + 1;
    size_t len = size - nl - 1;
    uint16_t id = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
    uint32_t ip, ttl;
    int rc = dnsmsg_answer(msg, len, id, name, &ip, &ttl);
    if (rc == BH_OK && (!(msg[2] & 0x80) || dnsmsg_query(q, sizeof q, id, name) < 0))
        __builtin_trap();
    if (rc != BH_OK && rc != BH_ERR_DNS && rc != BH_ERR_PROTO)
        __builtin_trap();
    return 0;
}
