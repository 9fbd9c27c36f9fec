/*
 * lwipopts.h - lwIP 2.1.3 as the bare-metal lwIP boards build it (ports/mps2): NO_SYS, the raw
 * API only, IPv4 with DHCP, DNS servers from DHCP, TCP and UDP. Sized for one button press:
 * a DHCP exchange, a DNS query, one or two TCP connections. The ESP8266's SDK ships its own
 * lwIP build with its own options; the glue in this folder uses only what both have.
 */
#ifndef BH_LWIPOPTS_H
#define BH_LWIPOPTS_H

/* no RTOS, no threads: the application's waits pump the stack (bhl_poll) */
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1

/* memory: lwIP's own static heap and pools, no malloc */
#define MEM_ALIGNMENT 4
#define MEM_SIZE (12 * 1024)
#define MEMP_NUM_PBUF 16
#define MEMP_NUM_UDP_PCB 4
#define MEMP_NUM_TCP_PCB 5
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 16
#define PBUF_POOL_SIZE 12
#define PBUF_POOL_BUFSIZE 1536

/* IPv4, Ethernet */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_IGMP 0

/* DHCP: the lease the fast wake keeps; no ARP probe of the offered address (it costs a
 * second per wake, and the kept lease is only used while the router still holds it) */
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_DHCP_CHECK_LINK_UP 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_STATUS_CALLBACK 0

/* DNS: only the servers DHCP gives (the glue sends its own queries to read the TTL) */
#define LWIP_DNS 1
#define DNS_TABLE_SIZE 1
#define DNS_MAX_SERVERS 2

/* TCP: one request at a time, replies of a few hundred bytes */
#define LWIP_TCP 1
#define LWIP_UDP 1
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN 16
#define TCP_LISTEN_BACKLOG 1
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_ALTCP 0
#define LWIP_CALLBACK_API 1
#define LWIP_EVENT_API 0

/* checksums in software, no statistics, no debug output */
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0
#define LWIP_DEBUG 0
#define LWIP_PROVIDE_ERRNO 1

/* random: the board's (hal_random), for ports, DHCP and DNS ids */
#define LWIP_RAND() bhl_rand()

#endif
