/* dns_msg.c - DNS A queries and replies (RFC 1035), see dns_msg.h. */
#include "dns_msg.h"

#include <string.h>

#include "hal/hal.h"

#define HDR 12
#define TYPE_A 1
#define TYPE_CNAME 5
#define CLASS_IN 1
#define MAX_JUMPS 16       /* name pointers followed in one name: more is a loop */
#define MAX_NAME 255

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dnsmsg_query(uint8_t *buf, size_t cap, uint16_t id, const char *host)
{
    size_t hl = strlen(host), n = HDR;
    if (hl == 0 || hl > 253)
        return BH_ERR_ARG;
    if (cap < HDR + hl + 2 + 4)
        return BH_ERR_TOOBIG;
    memset(buf, 0, HDR);
    buf[0] = (uint8_t)(id >> 8);
    buf[1] = (uint8_t)id;
    buf[2] = 0x01;          /* RD: the resolver recurses for us */
    buf[5] = 1;             /* one question */
    const char *label = host;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t ll = dot ? (size_t)(dot - label) : strlen(label);
        if (ll == 0) {
            if (!dot && label != host)   /* "host." : the root label ends it */
                break;
            return BH_ERR_ARG;
        }
        if (ll > 63)
            return BH_ERR_ARG;
        buf[n++] = (uint8_t)ll;
        memcpy(buf + n, label, ll);
        n += ll;
        if (!dot)
            break;
        label = dot + 1;
    }
    buf[n++] = 0;
    buf[n++] = 0, buf[n++] = TYPE_A;
    buf[n++] = 0, buf[n++] = CLASS_IN;
    return (int)n;
}

/* Reads the name at *off: its text, dotted and lower-cased, into out (NULL: only skipped);
 * *off moves past it in the message (not past what a pointer leads to). */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
    size_t p = *off, o = 0, end = 0;
    int jumps = 0;
    for (;;) {
        if (p >= len)
            return BH_ERR_PROTO;
        uint8_t c = msg[p];
        if ((c & 0xC0) == 0xC0) {
            if (p + 1 >= len || ++jumps > MAX_JUMPS)
                return BH_ERR_PROTO;
            if (!end)
                end = p + 2;
            p = (size_t)((c & 0x3F) << 8 | msg[p + 1]);
            continue;
        }
        if (c & 0xC0)
            return BH_ERR_PROTO;     /* the reserved label types */
        if (c == 0) {
            if (!end)
                end = p + 1;
            break;
        }
        if (p + 1 + c > len || o + c + 1 > MAX_NAME)
            return BH_ERR_PROTO;
        if (out) {
            if (o)
                out[o++] = '.';
            for (size_t i = 0; i < c; i++) {
                char ch = (char)msg[p + 1 + i];
                out[o++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
            }
        } else {
            o += c + 1u;
        }
        p += 1u + c;
    }
    if (out)
        out[o] = 0;
    *off = end;
    return BH_OK;
}

static int same_name(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (lb && b[lb - 1] == '.')
        lb--;                  /* "host." is "host" */
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++) {
        char x = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] - 'A' + 'a') : b[i];
        if (a[i] != x)
            return 0;
    }
    return 1;
}

int dnsmsg_answer(const uint8_t *msg, size_t len, uint16_t id, const char *host,
                  uint32_t *ip, uint32_t *ttl)
{
    char name[MAX_NAME + 1], want[MAX_NAME + 1];
    if (len < HDR || get16(msg) != id || !(msg[2] & 0x80) || get16(msg + 4) != 1)
        return BH_ERR_PROTO;
    if (msg[2] & 0x02)
        return BH_ERR_PROTO;          /* truncated: the address may be in the cut part */
    size_t off = HDR;
    if (read_name(msg, len, &off, name) < 0 || off + 4 > len || !same_name(name, host) ||
        get16(msg + off) != TYPE_A || get16(msg + off + 2) != CLASS_IN)
        return BH_ERR_PROTO;
    off += 4;
    int rcode = msg[3] & 0x0F;
    if (rcode != 0)
        return BH_ERR_DNS;            /* NXDOMAIN, SERVFAIL, REFUSED ... */

    /* Follow the chain from the question's name: a CNAME renames it, an A record for the
     * current name ends it. Records may come in any order, so go over them again after each
     * rename (at most one pass per record). */
    size_t first = off;
    unsigned nans = get16(msg + 6);
    uint32_t min_ttl = UINT32_MAX;
    memcpy(want, name, sizeof want);
    for (unsigned pass = 0; pass <= nans; pass++) {
        int renamed = 0;
        off = first;
        for (unsigned i = 0; i < nans; i++) {
            if (read_name(msg, len, &off, name) < 0 || off + 10 > len)
                return BH_ERR_PROTO;
            uint16_t type = get16(msg + off), cls = get16(msg + off + 2);
            uint32_t rttl = get32(msg + off + 4);
            uint16_t rdlen = get16(msg + off + 8);
            off += 10;
            if (off + rdlen > len)
                return BH_ERR_PROTO;
            if (cls == CLASS_IN && strcmp(name, want) == 0) {
                if (rttl > 0x7FFFFFFFu)
                    rttl = 0;         /* RFC 2181: a TTL with the top bit set is zero */
                if (type == TYPE_A && rdlen == 4) {
                    *ip = get32(msg + off);
                    *ttl = rttl < min_ttl ? rttl : min_ttl;
                    return BH_OK;
                }
                if (type == TYPE_CNAME) {
                    size_t t = off;
                    if (read_name(msg, len, &t, want) < 0)
                        return BH_ERR_PROTO;
                    if (rttl < min_ttl)
                        min_ttl = rttl;
                    renamed = 1;
                }
            }
            off += rdlen;
        }
        if (!renamed)
            break;
    }
    return BH_ERR_DNS;                /* an answer, but no address for the name */
}
