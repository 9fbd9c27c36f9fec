/*
 * tls_mbedtls.h - TLS for Linux-hosted ports, with mbedTLS 2.28 (Debian's libmbedtls).
 *
 * tls_mbedtls.c defines hal_tls_start(): a TLS 1.2 client handshake on a connected port socket
 * with certificate verification REQUIRED, against the PEM CAs of a flash file (read through
 * hal_fs_*) or the board's CA bundle; the host name is checked and sent as SNI (an IPv4
 * address is matched with the certificate's iPAddress entries and never sent as SNI).
 * Verification failures return BH_ERR_CERT, other handshake failures BH_ERR_TLS.
 *
 * After it succeeds, the port's hal_tcp_send/recv/close on that socket call tls_send,
 * tls_recv and tls_end below. In return the port gives the TLS layer raw, non-blocking I/O on
 * its sockets and a way to wait (the port_* functions), as lwIP's altcp_tls sits on altcp_tcp.
 * Sessions are heap objects of mbedTLS: this is why TLS lives in the port, not the firmware.
 *
 * With hal_tls_params.resume, the session is kept across deep sleep in the port's part of RTC
 * memory (HAL_RTC_TLS_OFF, 256 bytes: see the record's layout in tls_mbedtls.c) and offered
 * again, as a ticket or a session id, to the same host with the same CAs.
 */
#ifndef BH_TLS_MBEDTLS_H
#define BH_TLS_MBEDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

/* ---- the TLS layer, for the port's socket calls ---- */
bool tls_is_active(int s);
int tls_send(int s, const void *buf, size_t len, uint32_t timeout_ms);   /* len or bh_err */
int tls_recv(int s, void *buf, size_t cap, uint32_t timeout_ms);   /* >0, 0 closed, bh_err */
void tls_end(int s);           /* sends close_notify if it can, frees the session */
void tls_end_all(void);        /* at the end of a wake */
/* From the port's hal_deep_sleep(): counts this wake off the kept session's lifetime (the
 * sleep that ends it is counted by the next wake, from hal_slept_ms()). */
void tls_before_sleep(void);

/* ---- what the port provides ---- */
#define PORT_WOULD_BLOCK (-1000)
/* Raw, non-blocking: bytes moved (> 0), PORT_WOULD_BLOCK, or a negative bh_err; recv gives 0
 * when the peer closed. The port counts these bytes as the radio's. */
int port_sock_send(int s, const void *buf, size_t len);
int port_sock_recv(int s, void *buf, size_t cap);
/* Wait until s is readable (or writable); 0, BH_ERR_TIMEOUT or a bh_err. Feeds the watchdog. */
int port_sock_wait(int s, bool for_write, uint32_t timeout_ms);
bool port_sock_valid(int s);
/* The board's default CA bundle: a PEM file on the host. */
const char *port_ca_bundle(void);
/* Told after each handshake attempt (for the port's accounting): its duration and result,
 * and whether it was the short one of a resumed session. */
void port_tls_handshake(int s, uint32_t ms, int result, bool resumed);

#endif
