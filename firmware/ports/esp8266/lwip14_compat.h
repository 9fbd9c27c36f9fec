/*
 * lwip14_compat.h - lets ports/lwip's sockets and DNS (written for lwIP 2.1) compile against
 * the ESP8266 SDK's lwIP 1.4, whose prebuilt liblwip.a is the stack on the chip. The build
 * force-includes it (-include) into sock.c, dns.c and dns_msg.c only, so ports/lwip carries
 * no per-version #if. Each shim below maps one 2.1 name onto what 1.4 has; the raw API calls
 * the glue uses otherwise agree (tcp_new/connect/write/recv/recved/close, udp_*).
 */
#ifndef BH_LWIP14_COMPAT_H
#define BH_LWIP14_COMPAT_H

#include "lwip/opt.h"   /* first: the SDK's lwipopts.h and arch/cc.h (u8_t, ICACHE_FLASH_ATTR) */
#include "lwip/arch.h"
#include "lwip/def.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
/* The SDK's include/ip_addr.h (pulled in by user_interface.h) repeats lwIP 1.4's ip_addr_t
 * and struct ip_info; lwIP's copy is already here. */
#define __IP_ADDR_H__
#include "lwip/pbuf.h"
#include "lwip/netif.h"
#include "lwip/udp.h"
#include "lwip/dns.h"   /* 1.4's dns.h needs ip_addr_t and err_t declared before it */
#include "lwip/init.h"

#if LWIP_VERSION_MAJOR < 2
/* 1.4's ip_addr_t is the IPv4 address itself */
#define IPADDR4_INIT(u32) {(u32)}
#define IP4_ADDR_ANY IP_ADDR_ANY
#define ip4_addr_isany_val(a) ((a).addr == IPADDR_ANY)
#define netif_ip4_addr(n) (&(n)->ip_addr)

#include "lwip14_pbuf.h"
#define pbuf_free_header bhl14_pbuf_free_header

/* 1.4 returns the server by value; 2.1 a pointer that stays valid, as this copy does. */
static inline const ip_addr_t *bhl14_dns_getserver(u8_t n)
{
    static ip_addr_t servers[DNS_MAX_SERVERS];
    if (n >= DNS_MAX_SERVERS)
        return IP_ADDR_ANY;
    servers[n] = (dns_getserver)(n);
    return &servers[n];
}
#define dns_getserver bhl14_dns_getserver

/* 1.4's prototypes lack the const of 2.1's on addresses lwIP only reads. The callback's
 * address argument differs only in that const, which the calling convention ignores. */
#define udp_sendto(pcb, p, ip, port) (udp_sendto)((pcb), (p), (ip_addr_t *)(ip), (port))
#define udp_recv(pcb, fn, arg) (udp_recv)((pcb), (udp_recv_fn)(void (*)(void))(fn), (arg))
#endif

#endif
