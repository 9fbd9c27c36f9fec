/* fuzz_portal_req.c - the set-up page's request head parser (portal/req.c) on arbitrary
 * bytes. Besides the sanitizers it checks what portal.c relies on: a complete head says where
 * it ends (never past the input) and holds a path that starts with '/' inside it, and Host
 * and Origin inside it too; the head's
 * verdict depends on the head alone (the same bytes with anything after them parse the same);
 * a refusal always says why; Content-Length never exceeds the cap given. */
#include <stdint.h>
#include <string.h>

#include "hal/hal.h"
#include "portal/portal.h"

#define CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[CAP];
    if (size < 1)
        return 0;
    size_t max_body = data[0] * 8u;   /* small and large caps */
    data++, size--;
    if (size > CAP)
        size = CAP;
    memcpy(buf, data, size);
    preq r;
    int hl = preq_parse(buf, size, max_body, &r);
    if (hl < 0) {
        if (!r.why || !r.why[0])
            __builtin_trap();
        return 0;
    }
    if (hl == 0)
        return 0;
    if ((size_t)hl > size || buf[hl - 1] != '\n')
        __builtin_trap();
    if (!r.path || r.path < buf || r.path + r.path_len > buf + hl || r.path_len == 0 ||
        r.path[0] != '/' || memchr(r.path, '?', r.path_len))
        __builtin_trap();
    if (r.body_len > max_body || (r.method != PREQ_GET && r.method != PREQ_POST &&
                                  r.method != PREQ_OTHER))
        __builtin_trap();
    if ((r.host && (r.host < buf || r.host + r.host_len > buf + hl)) ||
        (r.origin && (r.origin < buf || r.origin + r.origin_len > buf + hl)))
        __builtin_trap();
    preq again;
    if (preq_parse(buf, (size_t)hl, max_body, &again) != hl || again.body_len != r.body_len ||
        again.form != r.form || again.method != r.method || again.path_len != r.path_len)
        __builtin_trap();
    return 0;
}
