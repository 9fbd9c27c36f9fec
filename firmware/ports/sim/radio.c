/* radio.c - the simulated board's radio (station and access point) and its sockets.
 *
 * The radio is a model driven by the world file: joining plays out scan, association and
 * DHCP phases with short delays on the board's clock (log.c) and ends in the ESP8266's link
 * states. Traffic is real:
 * once the station has an address, sockets are the host's own non-blocking TCP sockets and
 * names resolve through the world's host table, then the host's resolver. While the station
 * has no address, sockets and DNS fail with BH_ERR_NOLINK, as lwIP has no route then. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/tls_mbedtls.h"
#include "sim.h"

#define SLICE_MS 200

/* ---- accounting ---------------------------------------------------------------------------- */

/* A network step that really happened: count its real duration up to the model's floor. */
static void floor_to(uint32_t real_ms, int figure)
{
    double model = SIM_MODEL(figure);
    if (model > real_ms)
        sim_sh->counts.delta_ms += (int64_t)(model - real_ms);
}

/* ---- joining: a plan of phases, settled as time passes ---------------------------------- */

int sim_join_link(const sim_join *j, uint32_t now)
{
    if (!j->active)
        return HAL_LINK_IDLE;
    return now >= j->outcome_at ? j->outcome : HAL_LINK_CONNECTING;
}

/* Count each phase once it has finished, replacing the simulator's short delay by the
 * model's figure. Called by the firmware's radio calls and by the hardware at the wake's end,
 * so a phase is counted once whoever sees it first. */
void sim_join_settle(sim_join *j, uint32_t now)
{
    if (!j->active)
        return;
    static const struct { int bit; int figure; } ph[] = {
        {PH_SCAN, M_SCAN}, {PH_ASSOC, M_ASSOC}, {PH_DHCP, M_DHCP}};
    for (int i = 0; i < 3; i++) {
        uint32_t end = ph[i].bit == PH_SCAN ? j->scan_end
                       : ph[i].bit == PH_ASSOC ? j->assoc_end : j->dhcp_end;
        if (!end || now < end)
            continue;
        if (__atomic_fetch_or(&j->settled, ph[i].bit, __ATOMIC_RELAXED) & ph[i].bit)
            continue;
        uint32_t *count = ph[i].bit == PH_SCAN ? &sim_sh->counts.scans
                          : ph[i].bit == PH_ASSOC ? &sim_sh->counts.assocs : &sim_sh->counts.dhcp;
        (*count)++;
        uint32_t sim_ms = ph[i].bit == PH_SCAN ? sim_w.scan_ms
                          : ph[i].bit == PH_ASSOC ? sim_w.assoc_ms : sim_w.dhcp_ms;
        /* a DHCP server that never answers: the exchange was tried, its time is real */
        if (!(ph[i].bit == PH_DHCP && j->outcome_at == UINT32_MAX))
            sim_sh->counts.delta_ms += (int64_t)SIM_MODEL(ph[i].figure) - sim_ms;
    }
}

static int link_now(void)
{
    uint32_t now = sim_board_ms();
    sim_join_settle(&sim_sh->join, now);
    return sim_sh->sta_active ? sim_join_link(&sim_sh->join, now) : HAL_LINK_IDLE;
}

static bool have_ip(void)
{
    return link_now() == HAL_LINK_GOT_IP;
}

static void ipstr(uint32_t ip, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static const char *link_name(int l)
{
    static const char *const n[] = {"IDLE", "CONNECTING", "WRONG_PASSWORD", "NO_AP_FOUND",
                                    "CONNECT_FAIL", "GOT_IP"};
    return l >= 0 && l <= 5 ? n[l] : "?";
}

/* The router hands the same address to the same MAC every time, as home routers do. */
static uint32_t lease_ip(void)
{
    uint32_t size = ~sim_w.netmask + 1;
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++)
        h = (h ^ sim_sh->mac[i]) * 16777619u;
    uint32_t host = 2 + h % (size - 3);
    uint32_t ip = sim_w.net | host;
    if (ip == sim_w.gateway || ip == sim_w.dns)
        ip = sim_w.net | (2 + (host - 1) % (size - 3));
    return ip;
}

void hal_radio_mac(uint8_t mac[6])
{
    memcpy(mac, sim_sh->mac, 6);
}

static void end_join(void)
{
    sim_join_settle(&sim_sh->join, sim_board_ms());
    sim_sh->join.active = 0;
}

int hal_radio_sta_active(bool on)
{
    if (!on)
        end_join();
    sim_sh->sta_active = on;
    return BH_OK;
}

static void wait_ms(uint32_t ms)
{
    hal_delay_ms(ms);
}

int hal_radio_scan(hal_ap_info *out, int max)
{
    if (!sim_sh->sta_active)
        return BH_ERR_STATE;
    if (max < 0 || (max > 0 && !out))
        return BH_ERR_ARG;
    uint32_t start = sim_board_ms();
    wait_ms(sim_w.scan_ms);
    sim_sh->counts.scans++;
    sim_sh->counts.delta_ms += (int64_t)SIM_MODEL(M_SCAN) - (int64_t)(sim_board_ms() - start);
    if (sim_w.scan_fail)
        return BH_ERR_IO;
    int n = 0;
    for (int i = 0; i < sim_w.naps && n < max; i++, n++) {
        const sim_ap *a = &sim_w.aps[i];
        hal_ap_info *o = &out[n];
        memset(o, 0, sizeof *o);
        if (!a->hidden)
            memcpy(o->ssid, a->ssid, sizeof o->ssid);
        memcpy(o->bssid, a->bssid, 6);
        o->channel = sim_ap_channel(a);
        o->rssi = a->rssi;
        o->authmode = a->auth;
        o->hidden = a->hidden;
    }
    sim_ev e;
    ev_begin(&e, "radio");
    ev_str(&e, "what", "scan");
    ev_int(&e, "found", n);
    ev_end(&e);
    return n;
}

int hal_radio_join(const hal_join_params *p)
{
    if (!sim_sh->sta_active)
        return BH_ERR_STATE;
    if (!p || !p->ssid)
        return BH_ERR_ARG;
    /* an AP listed with an empty SSID is a hidden one whose name nobody knows: unjoinable */
    end_join();   /* a new join drops the one in progress, as the SDK does */

    char ssid[33] = "";
    memcpy(ssid, p->ssid, strnlen(p->ssid, 32));
    const char *pw = p->password ? p->password : "";
    /* the SDK joins the strongest AP that matches */
    int best = -1;
    for (int i = 0; i < sim_w.naps; i++) {
        const sim_ap *a = &sim_w.aps[i];
        if (!a->ssid[0] || strcmp(a->ssid, ssid) != 0 || (p->bssid && memcmp(p->bssid, a->bssid, 6) != 0) ||
            (p->channel && p->channel != sim_ap_channel(a)))
            continue;
        if (best < 0 || a->rssi > sim_w.aps[best].rssi)
            best = i;
    }

    sim_join j;
    memset(&j, 0, sizeof j);
    j.active = 1;
    j.start = sim_board_ms();   /* the plan runs on the board's clock: see log.c */
    j.ap = best;
    /* with a saved BSSID and channel the SDK skips the scan and goes straight to the AP; when
     * the AP is not there (it moved channel) the authentication times out: NO_AP_FOUND after
     * an association's time, with no scan */
    bool scan = !(p->bssid && p->channel);
    uint32_t t = j.start + (scan ? sim_w.scan_ms : 0);
    if (scan)
        j.scan_end = t ? t : 1;
    if (best < 0 && !scan) {
        t += sim_w.assoc_ms;
        j.assoc_end = t ? t : 1;   /* 0 would mean "not planned" */
        j.outcome = HAL_LINK_NO_AP_FOUND;
        j.outcome_at = t;
    } else if (best < 0) {
        j.outcome = HAL_LINK_NO_AP_FOUND;
        j.outcome_at = t;
    } else if (sim_w.silent_boot && sim_sh->boot >= sim_w.silent_boot && t < sim_w.silent_ms) {
        /* the AP does not answer (interference, a busy AP): CONNECTING until the firmware
         * gives up; no association to count, its time is real */
        j.outcome = HAL_LINK_CONNECT_FAIL;
        j.outcome_at = UINT32_MAX;
    } else {
        const sim_ap *a = &sim_w.aps[best];
        t += sim_w.assoc_ms;
        j.assoc_end = t ? t : 1;
        if (sim_w.join_fail) {
            j.outcome = HAL_LINK_CONNECT_FAIL;
            j.outcome_at = t;
        } else if (a->auth != HAL_AUTH_OPEN && strncmp(a->password, pw, 64) != 0) {
            j.outcome = HAL_LINK_WRONG_PASSWORD;
            j.outcome_at = t;
        } else if (p->static_ip) {
            j.static_ip = true;
            j.ipcfg = *p->static_ip;
            j.ipcfg.lease_s = 0;
            j.outcome = HAL_LINK_GOT_IP;
            j.outcome_at = t;
        } else {
            j.dhcp_end = t + (sim_w.dhcp_fail ? 0 : sim_w.dhcp_ms);
            j.outcome = HAL_LINK_GOT_IP;
            j.outcome_at = sim_w.dhcp_fail ? UINT32_MAX : j.dhcp_end;
            j.ipcfg = (hal_ipcfg){lease_ip(), sim_w.netmask, sim_w.gateway, sim_w.dns,
                                  sim_w.lease_s};
        }
    }
    sim_sh->join = j;

    char ip[16] = "";
    if (j.outcome == HAL_LINK_GOT_IP)
        ipstr(j.ipcfg.ip, ip, sizeof ip);
    const char *result = j.outcome_at != UINT32_MAX ? link_name(j.outcome)
                         : j.assoc_end ? "no DHCP answer" : "no AP answer";
    sim_ev e;
    ev_begin(&e, "radio");
    ev_str(&e, "what", "join");
    ev_str(&e, "ssid", ssid);
    ev_str(&e, "result", result);
    if (ip[0])
        ev_str(&e, "ip", ip);
    if (j.outcome_at != UINT32_MAX)
        ev_int(&e, "after_ms", (long long)(j.outcome_at - j.start));
    ev_end(&e);
    sim_say("wifi: joining '%s': %s%s%s", ssid, result, ip[0] ? " " : "", ip);
    return BH_OK;
}

hal_link_t hal_radio_link(void)
{
    return (hal_link_t)link_now();
}

int hal_radio_leave(void)
{
    end_join();
    return BH_OK;
}

int hal_radio_ipcfg(hal_ipcfg *out)
{
    if (!have_ip())
        return BH_ERR_NOLINK;
    *out = sim_sh->join.ipcfg;
    if (!sim_sh->join.static_ip) {
        uint32_t held = (sim_board_ms() - sim_sh->join.outcome_at) / 1000;
        out->lease_s = held < out->lease_s ? out->lease_s - held : 0;
    }
    return BH_OK;
}

int hal_radio_set_ipcfg(const hal_ipcfg *cfg)
{
    if (!cfg)
        return BH_ERR_ARG;
    if (!have_ip())
        return BH_ERR_NOLINK;
    sim_sh->join.ipcfg = *cfg;
    sim_sh->join.ipcfg.lease_s = 0;
    sim_sh->join.static_ip = true;   /* the DHCP client stops */
    return BH_OK;
}

int hal_radio_assoc(uint8_t bssid[6], uint8_t *channel, int8_t *rssi)
{
    int l = link_now();
    const sim_join *j = &sim_sh->join;
    /* associated: connected, or waiting for a DHCP answer after association */
    bool assoc = l == HAL_LINK_GOT_IP ||
                 (l == HAL_LINK_CONNECTING && j->outcome == HAL_LINK_GOT_IP && j->assoc_end &&
                  sim_board_ms() >= j->assoc_end);
    if (!assoc || j->ap < 0)
        return BH_ERR_NOLINK;
    const sim_ap *a = &sim_w.aps[j->ap];
    memcpy(bssid, a->bssid, 6);
    *channel = sim_ap_channel(a);
    *rssi = a->rssi;
    return BH_OK;
}

int hal_radio_ap(bool active, const hal_ap_params *p)
{
    if (active) {
        /* what the SDK's wifi_softap_set_config() refuses */
        if (!p || !p->ssid || !p->ssid[0] || strlen(p->ssid) > 32 || p->authmode == HAL_AUTH_WEP ||
            p->authmode > HAL_AUTH_WPA_WPA2_PSK || p->channel < 1 || p->channel > 13 ||
            (p->authmode != HAL_AUTH_OPEN && (!p->password || strlen(p->password) < 8 ||
                                              strlen(p->password) > 63)))
            return BH_ERR_ARG;
    }
    if (sim_sh->ap_active != active) {
        sim_ev e;
        ev_begin(&e, "radio");
        ev_str(&e, "what", active ? "ap_on" : "ap_off");
        if (active)
            ev_str(&e, "ssid", p->ssid);
        ev_end(&e);
    }
    sim_sh->ap_active = active;
    return BH_OK;
}

int hal_radio_ap_stations(void)
{
    return sim_sh->ap_active ? sim_w.ap_stations : 0;
}

/* ---- sockets ------------------------------------------------------------------------------ */

static struct {
    int fd;
    bool used, listener;
    uint16_t board_port;
} socks[SIM_MAX_SOCKS];

static int map_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: return BH_ERR_REFUSED;
    case ENETUNREACH: case EHOSTUNREACH: case ENETDOWN: case EHOSTDOWN: case EADDRNOTAVAIL:
        return BH_ERR_UNREACH;
    case ETIMEDOUT: return BH_ERR_TIMEOUT;
    case ECONNRESET: case EPIPE: case ECONNABORTED: case ENOTCONN: return BH_ERR_RESET;
    case ENOMEM: case ENOBUFS: case EMFILE: case ENFILE: return BH_ERR_NOMEM;
    default: return BH_ERR_IO;
    }
}

static int new_slot(int fd, bool listener)
{
    for (int i = 0; i < SIM_MAX_SOCKS; i++)
        if (!socks[i].used) {
            socks[i].fd = fd;
            socks[i].used = true;
            socks[i].listener = listener;
            socks[i].board_port = 0;
            return i;
        }
    return BH_ERR_NOMEM;
}

bool port_sock_valid(int s)
{
    return s >= 0 && s < SIM_MAX_SOCKS && socks[s].used && !socks[s].listener;
}

/* Waits on fd in slices so the watchdog is fed; 0 when ready. */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    uint32_t start = sim_now();
    int rc;
    sim_wait_begin(timeout_ms);   /* the board's clock: at most timeout_ms of it */
    for (;;) {
        sim_feed();
        uint32_t spent = sim_now() - start;
        if (spent >= timeout_ms && timeout_ms > 0) {
            rc = BH_ERR_TIMEOUT;
            break;
        }
        uint32_t left = timeout_ms - spent;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)(left < SLICE_MS ? left : SLICE_MS));
        if (r < 0 && errno != EINTR) {
            rc = map_errno(errno);
            break;
        }
        if (r > 0) {
            rc = 0;   /* readable, writable, or an error that the next call will report */
            break;
        }
        if (timeout_ms == 0) {
            rc = BH_ERR_TIMEOUT;
            break;
        }
    }
    sim_wait_end();
    return rc;
}

int port_sock_wait(int s, bool for_write, uint32_t timeout_ms)
{
    if (!port_sock_valid(s))
        return BH_ERR_ARG;
    hal_millis();   /* time passes: let the LEDs show */
    return wait_fd(socks[s].fd, for_write ? POLLOUT : POLLIN, timeout_ms);
}

int port_sock_send(int s, const void *buf, size_t len)
{
    if (!port_sock_valid(s))
        return BH_ERR_ARG;
    ssize_t n = send(socks[s].fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? PORT_WOULD_BLOCK
                                                                         : map_errno(errno);
    sim_sh->counts.tx_bytes += (uint64_t)n;
    sim_sh->counts.tx_packets += (uint32_t)((n + 1459) / 1460);   /* lwIP: a write, a segment */
    return (int)n;
}

int port_sock_recv(int s, void *buf, size_t cap)
{
    if (!port_sock_valid(s))
        return BH_ERR_ARG;
    ssize_t n = recv(socks[s].fd, buf, cap, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? PORT_WOULD_BLOCK
                                                                         : map_errno(errno);
    sim_sh->counts.rx_bytes += (uint64_t)n;
    return (int)n;
}

const char *port_ca_bundle(void)
{
    return sim_w.ca_bundle;
}

void port_tls_handshake(int s, uint32_t ms, int result, bool resumed)
{
    (void)s;
    (void)result;
    sim_sh->counts.tls++;
    sim_sh->counts.tls_resumed += resumed;
    floor_to(ms, resumed ? M_TLS_RESUMED : M_TLS);
}

/* The host's resolver runs in a thread of its own, so that a slow DNS server meets our
 * timeout and the watchdog is fed while we wait. The thread owns its request and hands the
 * answer over a pipe; if we gave up, the write fails and the thread just cleans up. (glibc's
 * getaddrinfo_a would do, but it leaves valgrind a false report at exit.) */
typedef struct {
    char name[256];
    int fd;
} dns_req;

static void *resolver(void *arg)
{
    dns_req *r = arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int answer[2] = {BH_ERR_DNS, 0};
    int e = getaddrinfo(r->name, NULL, &hints, &res);
    if (e == 0 && res) {
        answer[0] = BH_OK;
        answer[1] = (int)ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
    } else if (e == EAI_AGAIN) {
        answer[0] = BH_ERR_TIMEOUT;   /* the server did not answer */
    }
    if (res)
        freeaddrinfo(res);
    if (write(r->fd, answer, sizeof answer) < 0) {
        /* the caller gave up waiting */
    }
    close(r->fd);
    free(r);
    return NULL;
}

static int resolve(const char *host, uint32_t *ip, uint32_t start, uint32_t timeout_ms)
{
    int p[2];
    if (strlen(host) >= sizeof ((dns_req *)0)->name || pipe2(p, O_CLOEXEC) < 0)
        return BH_ERR_DNS;
    dns_req *r = malloc(sizeof *r);
    pthread_attr_t attr;
    pthread_t t;
    if (!r) {
        close(p[0]);
        close(p[1]);
        return BH_ERR_NOMEM;
    }
    snprintf(r->name, sizeof r->name, "%s", host);
    r->fd = p[1];
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &attr, resolver, r);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        close(p[0]);
        close(p[1]);
        free(r);
        return BH_ERR_NOMEM;
    }
    uint32_t spent = sim_board_ms() - start;
    int rc = spent < timeout_ms ? wait_fd(p[0], POLLIN, timeout_ms - spent) : BH_ERR_TIMEOUT;
    int answer[2];
    if (rc == 0)
        rc = read(p[0], answer, sizeof answer) == (ssize_t)sizeof answer ? answer[0] : BH_ERR_DNS;
    if (rc == BH_OK)
        *ip = (uint32_t)answer[1];
    close(p[0]);
    return rc;
}

int hal_dns_lookup(const char *host, uint32_t *ip, uint32_t timeout_ms)
{
    return hal_dns_lookup_ttl(host, ip, NULL, timeout_ms);
}

/* getaddrinfo() tells no TTL: every answer gets the world's dns_ttl_s (300 s by default). */
int hal_dns_lookup_ttl(const char *host, uint32_t *ip, uint32_t *ttl_s, uint32_t timeout_ms)
{
    if (!host || !ip)
        return BH_ERR_ARG;
    if (ttl_s)
        *ttl_s = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1) {   /* lwIP answers literals without asking */
        *ip = ntohl(a.s_addr);
        return BH_OK;
    }
    if (!have_ip())
        return BH_ERR_NOLINK;
    uint32_t start = sim_board_ms();
    sim_sh->counts.dns++;
    int rc = BH_ERR_DNS;
    if (sim_w.dns_fail) {
        wait_ms(timeout_ms < 20 ? timeout_ms : 20);
        goto out;
    }
    for (int i = 0; i < sim_w.nhosts; i++)
        if (strcasecmp(sim_w.hosts[i].name, host) == 0) {
            *ip = sim_w.hosts[i].ip;
            rc = BH_OK;
            goto out;
        }

    rc = resolve(host, ip, start, timeout_ms);
out:
    if (rc == BH_OK && ttl_s)
        *ttl_s = sim_w.dns_ttl_s;
    floor_to(sim_board_ms() - start, M_DNS);
    return rc;
}

int hal_tcp_connect(uint32_t ip, uint16_t port, uint32_t timeout_ms)
{
    if (!have_ip())
        return BH_ERR_NOLINK;
    uint32_t start = sim_board_ms();
    if (sim_w.drop_boot && sim_sh->boot >= sim_w.drop_boot &&
        sim_sh->counts.tcp < sim_w.drop_connects) {
        /* the SYNs are dropped (a router that no longer routes us): no answer until the
         * deadline, as lwIP's retransmissions would find none */
        sim_sh->counts.tcp++;
        wait_ms(timeout_ms);
        return BH_ERR_TIMEOUT;
    }
    sim_sh->counts.tcp++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return map_errno(errno);
    int s = new_slot(fd, false);
    if (s < 0) {
        close(fd);
        return s;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(ip)};
    int rc = BH_OK;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EINPROGRESS) {
            rc = map_errno(errno);
        } else {
            rc = wait_fd(fd, POLLOUT, timeout_ms);
            int err = 0;
            socklen_t len = sizeof err;
            if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
                rc = map_errno(err);
        }
    }
    floor_to(sim_board_ms() - start, M_TCP);
    if (rc < 0) {
        hal_tcp_close(s);
        return rc;
    }
    return s;
}

int hal_tcp_send(int s, const void *buf, size_t len, uint32_t timeout_ms)
{
    if (!port_sock_valid(s) || (len && !buf) || len > 0x7fffffff)
        return BH_ERR_ARG;
    if (tls_is_active(s))
        return tls_send(s, buf, len, timeout_ms);
    uint32_t start = sim_board_ms();
    size_t done = 0;
    while (done < len) {
        int n = port_sock_send(s, (const char *)buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n != PORT_WOULD_BLOCK)
            return n;
        uint32_t spent = sim_board_ms() - start;
        if (spent >= timeout_ms)
            return BH_ERR_TIMEOUT;
        int rc = port_sock_wait(s, true, timeout_ms - spent);
        if (rc < 0)
            return rc;
    }
    sim_feed();
    return (int)len;
}

int hal_tcp_recv(int s, void *buf, size_t cap, uint32_t timeout_ms)
{
    if (!port_sock_valid(s) || !buf || cap == 0)
        return BH_ERR_ARG;
    if (cap > 0x7fffffff)
        cap = 0x7fffffff;
    if (tls_is_active(s))
        return tls_recv(s, buf, cap, timeout_ms);
    uint32_t start = sim_board_ms();
    for (;;) {
        int n = port_sock_recv(s, buf, cap);
        if (n != PORT_WOULD_BLOCK) {
            sim_feed();
            return n;
        }
        uint32_t spent = sim_board_ms() - start;
        if (spent >= timeout_ms)
            return BH_ERR_TIMEOUT;
        int rc = port_sock_wait(s, false, timeout_ms - spent);
        if (rc < 0)
            return rc;
    }
}

static void forget_listener(uint16_t board_port)
{
    for (int i = 0; i < SIM_MAX_PORTS; i++)
        if (sim_sh->listening[i][0] == board_port)
            sim_sh->listening[i][0] = sim_sh->listening[i][1] = 0;
}

void hal_tcp_close(int s)
{
    if (s < 0 || s >= SIM_MAX_SOCKS || !socks[s].used)
        return;
    if (tls_is_active(s))
        tls_end(s);
    close(socks[s].fd);
    if (socks[s].listener)
        forget_listener(socks[s].board_port);
    socks[s].used = false;
}

void sim_socks_close_all(void)
{
    tls_end_all();
    for (int s = 0; s < SIM_MAX_SOCKS; s++)
        hal_tcp_close(s);
}

/* A listener binds the world's listen_host on the board's port, or on the host port the world
 * maps it to (0: any free one), so several boards can each run a server on "their" port 8266.
 * `simboard state` shows where each one listens. */
int hal_tcp_listen(uint16_t port)
{
    if (!have_ip() && !sim_sh->ap_active)
        return BH_ERR_NOLINK;
    uint16_t host_port = port;
    for (int i = 0; i < sim_w.nports; i++)
        if (sim_w.ports[i].board == port)
            host_port = sim_w.ports[i].host;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return map_errno(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(host_port),
                             .sin_addr.s_addr = htonl(sim_w.listen_host)};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int e = errno;
        close(fd);
        char text[96];
        snprintf(text, sizeof text, "board port %u -> host port %u: %s", port, host_port,
                 strerror(e));
        hal_report("info", "listen", BH_ERR_STATE, text);
        return e == EADDRINUSE ? BH_ERR_STATE : map_errno(e);
    }
    int s = new_slot(fd, true);
    if (s < 0) {
        close(fd);
        return s;
    }
    socks[s].board_port = port;
    for (int i = 0; i < SIM_MAX_PORTS; i++)
        if (sim_sh->listening[i][0] == 0) {
            sim_sh->listening[i][0] = port;
            sim_sh->listening[i][1] = ntohs(sa.sin_port);
            break;
        }
    char host[16];
    ipstr(sim_w.listen_host, host, sizeof host);
    sim_say("listening: board port %u is %s:%u", port, host, ntohs(sa.sin_port));
    return s;
}

int hal_tcp_accept(int listener, uint32_t timeout_ms)
{
    if (listener < 0 || listener >= SIM_MAX_SOCKS || !socks[listener].used ||
        !socks[listener].listener)
        return BH_ERR_ARG;
    hal_millis();
    uint32_t start = sim_board_ms();
    for (;;) {
        int fd = accept4(socks[listener].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int s = new_slot(fd, false);
            if (s < 0)
                close(fd);
            return s;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            return map_errno(errno);
        uint32_t spent = sim_board_ms() - start;
        if (spent >= timeout_ms)
            return BH_ERR_TIMEOUT;
        int rc = wait_fd(socks[listener].fd, POLLIN, timeout_ms - spent);
        if (rc < 0)
            return rc;
    }
}
