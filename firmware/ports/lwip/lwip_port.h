/*
 * lwip_port.h - what a bare-metal board gives the lwIP glue (ports/lwip/), and what the glue
 * gives it back.
 *
 * ports/lwip/ implements the network half of the board contract (hal.h: radio, DNS, TCP
 * sockets, hal_delay_ms) over lwIP's raw API with NO_SYS=1: no RTOS and no threads, one wait
 * loop (bhl_poll) that every blocking call runs while it waits. The board (ports/mps2, the
 * ESP8266) implements the rest of hal.h and the few functions below: a clock (hal_millis), the
 * Ethernet frames of its link, and what to do while idle.
 */
#ifndef BH_LWIP_PORT_H
#define BH_LWIP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The board gives the glue ------------------------------------------------------------ */
/* The link's MAC address (also hal_radio_mac()). */
void port_eth_mac(uint8_t mac[6]);
/* Brings the Ethernet controller up; 0 or a negative bh_err. */
int port_eth_init(void);
/* Is the cable in (PHY link up)? */
bool port_eth_link(void);
/* Sends one frame (destination MAC first, no FCS); 0 or a negative bh_err. */
int port_eth_output(const void *frame, size_t len);
/* Copies one received frame into buf: its length, 0 when none is waiting. */
int port_eth_input(void *buf, size_t cap);
/* Called by the wait loop when nothing happened: sleep until the next interrupt or return. */
void port_idle(void);

/* ---- The glue gives the board -------------------------------------------------------------- */
/* One turn of the wait loop: received frames into lwIP, lwIP's timers, the watchdog. Every
 * hal_* call that waits runs it; a board's own waits (hal_console_read) should too. */
void bhl_poll(void);

/* Ask this DNS server (ip in host order, port) instead of the ones DHCP or a static set-up
 * gave: a board's test harness that plays its own DNS server (ports/mps2's dns= parameter). */
void bhl_dns_override(uint32_t ip, uint16_t port);

#endif
