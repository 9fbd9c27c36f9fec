/*
 * dns_msg.h - the DNS messages of a look-up: an A query, and the address and TTL read from
 * its reply. Pure functions over byte buffers (no lwIP, no I/O), so the reply parser, which
 * reads what the network sends, is fuzzed on the host (fuzz/fuzz_dns_msg.c).
 *
 * The glue sends its own query instead of lwIP's dns_gethostbyname() because lwIP keeps an
 * answer's TTL to itself, and the fast wake keeps an answer in RTC memory exactly as long as
 * its TTL allows (docs/fast-wake.md).
 */
#ifndef BH_DNS_MSG_H
#define BH_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define DNSMSG_MAX 512   /* a DNS message over UDP without EDNS */

/* An A query for host, recursion desired, with this id: its length, or BH_ERR_ARG (not a
 * host name: empty, a label over 63 bytes, the name over 253) or BH_ERR_TOOBIG (cap). */
int dnsmsg_query(uint8_t *buf, size_t cap, uint16_t id, const char *host);

/* Reads the reply to that query. BH_OK: *ip (host order) and *ttl, the smallest TTL of the
 * records that led to it (a CNAME chain included). BH_ERR_DNS: the server answered that the
 * name has no address (NXDOMAIN, no A record, a refusal). BH_ERR_PROTO: not a well-formed
 * reply to this query (another id or question, truncated, a loop of name pointers): the
 * caller keeps waiting for the right one. */
int dnsmsg_answer(const uint8_t *msg, size_t len, uint16_t id, const char *host,
                  uint32_t *ip, uint32_t *ttl);

#endif
