/*
 * sock.c - the board contract's TCP sockets over lwIP's raw API (NO_SYS).
 *
 * A socket is a slot in a static table holding its tcp_pcb and the data lwIP has delivered
 * but the firmware has not read yet (a pbuf chain). lwIP's callbacks only record what
 * happened (connected, data, FIN, error) in the slot; the blocking calls wait for it in
 * bhl_wait_step(), each with its timeout. The receive window opens only as the firmware reads
 * (tcp_recved), so a slow reader slows the sender instead of losing data.
 */
#include <string.h>

#include "bhl.h"
#include "hal/hal.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#ifndef BHL_SOCKETS
#define BHL_SOCKETS 4
#endif
#define BACKLOG 2

enum { S_FREE, S_CONNECTING, S_OPEN, S_EOF, S_ERROR, S_LISTEN };

typedef struct {
    struct tcp_pcb *pcb;
    struct pbuf *rx;       /* received, not yet read */
    uint8_t state;
    int err;               /* the bh_err of S_ERROR */
    int8_t backlog[BACKLOG];   /* a listener's accepted, not yet taken, sockets */
    uint8_t nbacklog;
} bhl_sock;

static bhl_sock socks[BHL_SOCKETS];

static bhl_sock *get(int s)
{
    if (s < 0 || s >= BHL_SOCKETS || socks[s].state == S_FREE)
        return NULL;
    return &socks[s];
}

static int alloc(void)
{
    for (int i = 0; i < BHL_SOCKETS; i++)
        if (socks[i].state == S_FREE) {
            memset(&socks[i], 0, sizeof socks[i]);
            return i;
        }
    return BH_ERR_NOMEM;
}

/* The pcb is gone (lwIP freed it before calling this): a refusal while connecting, a reset or
 * a retransmission timeout later. */
static void on_err(void *arg, err_t e)
{
    bhl_sock *k = arg;
    if (!k)
        return;
    k->pcb = NULL;
    if (k->state == S_CONNECTING)
        k->err = e == ERR_RST ? BH_ERR_REFUSED : e == ERR_ABRT ? BH_ERR_TIMEOUT : bhl_err(e);
    else
        k->err = bhl_err(e);
    k->state = S_ERROR;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
    bhl_sock *k = arg;
    (void)pcb;
    if (!k) {                   /* closed by the firmware meanwhile */
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (e != ERR_OK) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p) {                   /* FIN: what was received stays readable */
        if (k->state == S_OPEN)
            k->state = S_EOF;
        return ERR_OK;
    }
    if (k->rx)
        pbuf_cat(k->rx, p);
    else
        k->rx = p;
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
    bhl_sock *k = arg;
    (void)pcb;
    if (k && k->state == S_CONNECTING)
        k->state = e == ERR_OK ? S_OPEN : S_ERROR;
    return ERR_OK;
}

static void attach(bhl_sock *k, struct tcp_pcb *pcb)
{
    k->pcb = pcb;
    tcp_arg(pcb, k);
    tcp_err(pcb, on_err);
    tcp_recv(pcb, on_recv);
}

/* Lets go of the pcb: a graceful close, or an abort when lwIP has no memory for the FIN. */
static void release(bhl_sock *k)
{
    if (k->pcb) {
        struct tcp_pcb *pcb = k->pcb;
        k->pcb = NULL;
        tcp_arg(pcb, NULL);
        if (k->state == S_LISTEN) {
            tcp_close(pcb);
        } else {
            tcp_err(pcb, NULL);
            tcp_recv(pcb, NULL);
            if (tcp_close(pcb) != ERR_OK)
                tcp_abort(pcb);
        }
    }
    if (k->rx)
        pbuf_free(k->rx);
    for (int i = 0; i < k->nbacklog; i++)
        hal_tcp_close(k->backlog[i]);
    memset(k, 0, sizeof *k);
}

int hal_tcp_connect(uint32_t ip, uint16_t port, uint32_t timeout_ms)
{
    bhl_init();
    int s = alloc();
    if (s < 0)
        return s;
    bhl_sock *k = &socks[s];
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return BH_ERR_NOMEM;
    ip_addr_t addr = IPADDR4_INIT(lwip_htonl(ip));
    k->state = S_CONNECTING;
    attach(k, pcb);
    err_t e = tcp_connect(pcb, &addr, port, on_connected);
    if (e != ERR_OK) {
        release(k);
        return bhl_err(e);
    }
    uint32_t start = hal_millis();
    while (k->state == S_CONNECTING) {
        if (bhl_expired(start, timeout_ms)) {
            release(k);     /* the SYN is still unanswered: abort it, no RST is sent */
            return BH_ERR_TIMEOUT;
        }
        bhl_wait_step();
    }
    if (k->state != S_OPEN) {
        int err = k->err ? k->err : BH_ERR_REFUSED;
        release(k);
        return err;
    }
    tcp_nagle_disable(pcb);   /* a request is written in a few pieces: send them at once */
    return s;
}

int hal_tcp_send(int s, const void *buf, size_t len, uint32_t timeout_ms)
{
    bhl_sock *k = get(s);
    if (!k || k->state == S_LISTEN)
        return BH_ERR_ARG;
    const uint8_t *p = buf;
    size_t done = 0;
    uint32_t start = hal_millis();
    while (done < len) {
        if (k->state == S_ERROR)
            return k->err;
        if (!k->pcb)
            return BH_ERR_RESET;
        size_t room = tcp_sndbuf(k->pcb), n = len - done;
        if (n > room)
            n = room;
        if (n > 0xFFFF)
            n = 0xFFFF;
        err_t e = ERR_MEM;
        if (n > 0 && tcp_sndqueuelen(k->pcb) < TCP_SND_QUEUELEN)
            e = tcp_write(k->pcb, p + done, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (e == ERR_OK) {
            done += n;
            tcp_output(k->pcb);
            continue;
        }
        if (e != ERR_MEM)
            return bhl_err(e);
        tcp_output(k->pcb);     /* full: wait for ACKs to make room */
        if (bhl_expired(start, timeout_ms))
            return BH_ERR_TIMEOUT;
        bhl_wait_step();
    }
    return (int)len;
}

int hal_tcp_recv(int s, void *buf, size_t cap, uint32_t timeout_ms)
{
    bhl_sock *k = get(s);
    if (!k || k->state == S_LISTEN || cap == 0)
        return BH_ERR_ARG;
    uint32_t start = hal_millis();
    while (!k->rx) {
        if (k->state == S_EOF)
            return 0;
        if (k->state == S_ERROR)
            return k->err;
        if (bhl_expired(start, timeout_ms))
            return BH_ERR_TIMEOUT;
        bhl_wait_step();
    }
    uint16_t n = k->rx->tot_len < cap ? k->rx->tot_len : (uint16_t)(cap > 0xFFFF ? 0xFFFF : cap);
    pbuf_copy_partial(k->rx, buf, n, 0);
    k->rx = pbuf_free_header(k->rx, n);
    if (k->pcb)
        tcp_recved(k->pcb, n);   /* open the window by what was read */
    return n;
}

void hal_tcp_close(int s)
{
    bhl_sock *k = get(s);
    if (k)
        release(k);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t e)
{
    bhl_sock *l = arg;
    if (e != ERR_OK || !pcb || !l || l->nbacklog >= BACKLOG)
        return ERR_MEM;   /* lwIP refuses the connection */
    int s = alloc();
    if (s < 0)
        return ERR_MEM;
    socks[s].state = S_OPEN;
    attach(&socks[s], pcb);
    tcp_nagle_disable(pcb);
    l->backlog[l->nbacklog++] = (int8_t)s;
    return ERR_OK;
}

int hal_tcp_listen(uint16_t port)
{
    bhl_init();
    int s = alloc();
    if (s < 0)
        return s;
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return BH_ERR_NOMEM;
    err_t e = tcp_bind(pcb, IP4_ADDR_ANY, port);
    if (e != ERR_OK) {
        tcp_abort(pcb);
        return bhl_err(e);
    }
    struct tcp_pcb *lpcb = tcp_listen_with_backlog(pcb, BACKLOG);
    if (!lpcb) {
        tcp_abort(pcb);
        return BH_ERR_NOMEM;
    }
    bhl_sock *k = &socks[s];
    k->state = S_LISTEN;
    k->pcb = lpcb;
    tcp_arg(lpcb, k);
    tcp_accept(lpcb, on_accept);
    return s;
}

int hal_tcp_accept(int listener, uint32_t timeout_ms)
{
    bhl_sock *l = get(listener);
    if (!l || l->state != S_LISTEN)
        return BH_ERR_ARG;
    uint32_t start = hal_millis();
    while (!l->nbacklog) {
        if (bhl_expired(start, timeout_ms))
            return BH_ERR_TIMEOUT;
        bhl_wait_step();
    }
    int s = l->backlog[0];
    memmove(l->backlog, l->backlog + 1, --l->nbacklog);
    return s;
}
