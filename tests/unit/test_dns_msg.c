/* test_dns_msg.c - the lwIP boards' DNS messages (firmware/ports/lwip/dns_msg.c): the query
 * on the wire, and the address and TTL a board keeps from real reply shapes. */
#include <string.h>

#include "ports/lwip/dns_msg.h"
#include "testboard.h"

static uint8_t msg[DNSMSG_MAX];
static size_t len;

static void put(const void *p, size_t n) { memcpy(msg + len, p, n); len += n; }
static void put16(unsigned v) { msg[len++] = (uint8_t)(v >> 8); msg[len++] = (uint8_t)v; }
static void put32(uint32_t v) { put16(v >> 16); put16(v & 0xFFFF); }

/* a reply to query id for name: header with rcode and nans, then the question */
static void reply(uint16_t id, int rcode, unsigned nans, const char *qname_wire, size_t qlen)
{
    len = 0;
    put16(id);
    put16(0x8180u | (unsigned)rcode);   /* QR, RD, RA */
    put16(1), put16(nans), put16(0), put16(0);
    put(qname_wire, qlen);
    put16(1), put16(1);
}

static void rr_a(const void *name, size_t nlen, uint32_t ttl, uint32_t ip)
{
    put(name, nlen);
    put16(1), put16(1), put32(ttl), put16(4), put32(ip);
}

#define HOOKS "\5hooks\4test\0"
#define PTR_Q "\xc0\x0c"   /* a pointer to the question's name */

int main(void)
{
    uint32_t ip = 0, ttl = 0;

    /* the query: header (id, RD, one question), the name as labels, type A, class IN */
    int n = dnsmsg_query(msg, sizeof msg, 0xBEEF, "hooks.test");
    static const uint8_t want[] = {0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   5, 'h', 'o', 'o', 'k', 's', 4, 't', 'e', 's', 't', 0,
                                   0, 1, 0, 1};
    CHECK_INT(n, sizeof want);
    CHECK(memcmp(msg, want, sizeof want) == 0);
    CHECK_INT(dnsmsg_query(msg, sizeof msg, 1, "hooks.test."), sizeof want);  /* rooted */
    CHECK_INT(dnsmsg_query(msg, sizeof msg, 1, ""), BH_ERR_ARG);
    CHECK_INT(dnsmsg_query(msg, sizeof msg, 1, "a..b"), BH_ERR_ARG);
    CHECK_INT(dnsmsg_query(msg, sizeof msg, 1,
        "a234567890123456789012345678901234567890123456789012345678901234.x"), BH_ERR_ARG);
    CHECK_INT(dnsmsg_query(msg, 20, 1, "hooks.test"), BH_ERR_TOOBIG);

    /* an A record: its address and TTL */
    reply(7, 0, 1, HOOKS, sizeof HOOKS - 1);
    rr_a(PTR_Q, 2, 300, 0x0A000202);
    CHECK_INT(dnsmsg_answer(msg, len, 7, "hooks.test", &ip, &ttl), BH_OK);
    CHECK_INT(ip, 0x0A000202);
    CHECK_INT(ttl, 300);
    CHECK_INT(dnsmsg_answer(msg, len, 7, "HOOKS.test.", &ip, &ttl), BH_OK);  /* case, root */
    /* not the answer to this query: another id, another name, cut short, not a reply */
    CHECK_INT(dnsmsg_answer(msg, len, 8, "hooks.test", &ip, &ttl), BH_ERR_PROTO);
    CHECK_INT(dnsmsg_answer(msg, len, 7, "hooks.tes", &ip, &ttl), BH_ERR_PROTO);
    CHECK_INT(dnsmsg_answer(msg, len - 1, 7, "hooks.test", &ip, &ttl), BH_ERR_PROTO);
    msg[2] &= 0x7F;
    CHECK_INT(dnsmsg_answer(msg, len, 7, "hooks.test", &ip, &ttl), BH_ERR_PROTO);

    /* a CNAME first (TTL 60), its A record after (TTL 3600): the smaller TTL is kept */
    reply(9, 0, 2, HOOKS, sizeof HOOKS - 1);
    put(PTR_Q, 2), put16(5), put16(1), put32(60), put16(7), put("\4edge\xc0\x12", 7);
    rr_a("\4edge\4test\0", 11, 3600, 0x0A000203);
    CHECK_INT(dnsmsg_answer(msg, len, 9, "hooks.test", &ip, &ttl), BH_OK);
    CHECK_INT(ip, 0x0A000203);
    CHECK_INT(ttl, 60);

    /* the A record of another name only: no address for ours */
    reply(10, 0, 1, HOOKS, sizeof HOOKS - 1);
    rr_a("\4else\4test\0", 11, 30, 0x01020304);
    CHECK_INT(dnsmsg_answer(msg, len, 10, "hooks.test", &ip, &ttl), BH_ERR_DNS);

    /* NXDOMAIN */
    reply(11, 3, 0, HOOKS, sizeof HOOKS - 1);
    CHECK_INT(dnsmsg_answer(msg, len, 11, "hooks.test", &ip, &ttl), BH_ERR_DNS);

    /* a name pointer to itself: refused, not followed forever */
    reply(12, 0, 1, HOOKS, sizeof HOOKS - 1);
    size_t self = len;
    put16(0xC000u | (unsigned)self), put16(1), put16(1), put32(5), put16(4), put32(1);
    CHECK_INT(dnsmsg_answer(msg, len, 12, "hooks.test", &ip, &ttl), BH_ERR_PROTO);

    /* a TTL with its top bit set is zero (RFC 2181): used once, never kept */
    reply(13, 0, 1, HOOKS, sizeof HOOKS - 1);
    rr_a(PTR_Q, 2, 0x80000000u, 0x0A000204);
    CHECK_INT(dnsmsg_answer(msg, len, 13, "hooks.test", &ip, &ttl), BH_OK);
    CHECK_INT(ttl, 0);
    return tb_done("test_dns_msg");
}
