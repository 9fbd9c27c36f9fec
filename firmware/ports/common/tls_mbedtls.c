/* tls_mbedtls.c - hal_tls_start() and TLS records on port sockets, with mbedTLS 2.28.
 *
 * Verification is REQUIRED: the chapter's MicroPython (axTLS) checked nothing, so anyone on
 * the path could read the webhook key; here an untrusted or misnamed certificate stops the
 * request before a byte of it is sent. See tls_mbedtls.h for the split with the port. */
#define _POSIX_C_SOURCE 200809L
#include "tls_mbedtls.h"
#include "tls_kept.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MBEDTLS_VERSION_NUMBER < 0x02100000 || MBEDTLS_VERSION_NUMBER >= 0x03000000
#error "tls_mbedtls.c is written for mbedTLS 2.16 to 2.28"
#endif

#define TLS_MAX_SESSIONS 4
#define CA_FILE_MAX (256 * 1024)
/* Handshake records are gathered and leave together when mbedTLS waits for the peer, so
 * that a flight is one TCP segment, as lwIP's tcp_write() + tcp_output() would send it. */
#define CORK_MAX 1460

typedef struct {
    bool used;
    int s;
    uint32_t deadline;          /* hal_millis() by which the current call must end */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_ctr_drbg_context drbg;
    bool is_ip;                 /* the host is an IPv4 address: checked by verify_ip() */
    bool ip_mismatch;           /* ... and the certificate does not name it */
    unsigned char ip[4];        /* that address, network order, as iPAddress entries hold it */
    size_t corked;              /* bytes in cork[] not yet handed to the socket */
    unsigned char cork[CORK_MAX];
} session;

static session sessions[TLS_MAX_SESSIONS];

static session *find(int s)
{
    for (int i = 0; i < TLS_MAX_SESSIONS; i++)
        if (sessions[i].used && sessions[i].s == s)
            return &sessions[i];
    return NULL;
}

bool tls_is_active(int s)
{
    return find(s) != NULL;
}

/* mbedTLS's I/O callbacks: non-blocking, so that waiting stays in our hands (timeouts, the
 * watchdog). */
static int sock_error(int n)
{
    return n == BH_ERR_RESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

/* Hands what is corked to the socket: 0 once all of it is gone, WANT_WRITE, or an error. */
static int flush(session *t)
{
    size_t done = 0;
    int rc = 0;
    while (done < t->corked) {
        int n = port_sock_send(t->s, t->cork + done, t->corked - done);
        if (n == PORT_WOULD_BLOCK) {
            rc = MBEDTLS_ERR_SSL_WANT_WRITE;
            break;
        }
        if (n < 0) {
            rc = sock_error(n);
            break;
        }
        done += (size_t)n;
    }
    memmove(t->cork, t->cork + done, t->corked - done);
    t->corked -= done;
    return rc;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    session *t = ctx;
    if (t->corked + len > CORK_MAX) {
        int rc = flush(t);
        if (rc != 0)
            return rc;
    }
    if (len <= CORK_MAX - t->corked) {
        memcpy(t->cork + t->corked, buf, len);
        t->corked += len;
        return (int)len;
    }
    int n = port_sock_send(t->s, buf, len);   /* a record bigger than a segment */
    if (n == PORT_WOULD_BLOCK)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return n < 0 ? sock_error(n) : n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    session *t = ctx;
    int rc = flush(t);   /* mbedTLS waits for the peer: what it wrote must be on its way */
    if (rc != 0)
        return rc;
    int n = port_sock_recv(t->s, buf, len);
    if (n == PORT_WOULD_BLOCK)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (n < 0)
        return n == BH_ERR_RESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    return n;   /* 0: the peer closed; mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
}

/* After WANT_READ / WANT_WRITE: wait for the socket until the call's deadline. */
static int wait_io(session *t, int ret)
{
    uint32_t now = hal_millis();
    if ((int32_t)(t->deadline - now) <= 0)
        return BH_ERR_TIMEOUT;
    return port_sock_wait(t->s, ret == MBEDTLS_ERR_SSL_WANT_WRITE, t->deadline - now);
}

static void free_session(session *t)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    t->used = false;
}

static void note(const char *host, int code, const char *fmt, const char *detail)
{
    char text[512];
    snprintf(text, sizeof text, fmt, host, detail);
    hal_report("info", "tls", code, text);
}

/* The CAs: a flash file of PEM certificates, or the board's bundle. */
static int load_cas(session *t, const hal_tls_params *p)
{
    if (p->ca_file) {
        int size = hal_fs_size(p->ca_file);
        if (size < 0) {
            note(p->ca_file, size, "CA file %s: %s", bh_strerror(size));
            return size == BH_ERR_NOENT ? BH_ERR_NOENT : BH_ERR_IO;
        }
        if (size > CA_FILE_MAX) {
            note(p->ca_file, BH_ERR_TOOBIG, "CA file %s: %s", "over 256 KB");
            return BH_ERR_TOOBIG;
        }
        unsigned char *pem = malloc((size_t)size + 1);
        if (!pem)
            return BH_ERR_NOMEM;
        int n = hal_fs_read(p->ca_file, 0, pem, (size_t)size);
        if (n != size) {
            free(pem);
            return BH_ERR_IO;
        }
        pem[size] = 0;   /* PEM parsing needs the NUL, counted in the length */
        int rc = mbedtls_x509_crt_parse(&t->ca, pem, (size_t)size + 1);
        free(pem);
        if (rc < 0 || t->ca.version == 0) {
            note(p->ca_file, BH_ERR_CERT, "CA file %s: %s", "no PEM certificate could be read");
            return BH_ERR_CERT;
        }
        return BH_OK;
    }
    const char *bundle = port_ca_bundle();
    /* a bundle may hold certificates mbedTLS cannot parse (rc > 0): the rest still count */
    int rc = mbedtls_x509_crt_parse_file(&t->ca, bundle);
    if (rc < 0 || t->ca.version == 0) {
        note(bundle, BH_ERR_CERT, "the board's CA bundle %s: %s", "no certificate could be read");
        return BH_ERR_CERT;
    }
    return BH_OK;
}

/* ---- The session kept across deep sleep (docs/fast-wake.md) --------------------------------
 *
 * mbedtls_ssl_session_save() would serialise the whole peer certificate: far too big for the
 * 256 bytes of RTC memory this port owns (HAL_RTC_TLS_OFF). The record (tls_kept.h) keeps only
 * what an abbreviated TLS 1.2 handshake needs: the master secret, the cipher suite and either
 * the server's session ticket (RFC 5077) or its session id, bound to the host and the CAs.
 *
 * 192 bytes of ticket fit: OpenSSL (nginx) issues 192-byte tickets for host names up to about
 * a dozen characters and 208 or 224 bytes for longer ones, which do not. With such a ticket
 * OpenSSL gives no session id, so the record then keeps a flag alone (TLS_KEPT_NO_TICKETS):
 * the next handshake asks for no ticket, and a server with a session cache answers with a
 * session id, which is kept, flag and all, and resumes. A resumed session
 * has no peer certificate: it stands on the full handshake that made it, which verified the
 * certificate (VERIFY_REQUIRED) for this host against these CAs.
 *
 * The board has no calendar, so the lifetime is counted down across sleeps, as the board's
 * clock measures them; a wake that began with a reset rather than a deep sleep (the time off
 * unknown) drops the session. The server enforces lifetimes anyway: a session it no longer
 * knows costs one full handshake. */

/* What kept_store() returns when it kept only the flag that asks the server for no ticket */
#define KEPT_NO_TICKETS_NOTE "; the next handshake asks for no ticket, for a session id"

/* Lifetimes when the server gives none (a session id; a ticket hint of 0, "unspecified"),
 * and the longest any ticket is kept (RFC 8446's 7 days). */
#define KEPT_ID_LIFETIME_S (24 * 3600)
#define KEPT_TICKET_MAX_S (7 * 24 * 3600)

/* A session kept in this wake: its lifetime counts from kept_at_ms, not from the last sleep.
 * RAM, so it is false again after any reset. */
static bool kept_fresh;
static uint32_t kept_at_ms;

_Static_assert(HAL_RTC_TLS_OFF % 4 == 0 && HAL_RTC_TLS_SIZE % 4 == 0, "RTC words");
_Static_assert(HAL_RTC_TLS_OFF + HAL_RTC_TLS_SIZE <= HAL_RTC_SIZE, "RTC memory");

/* SHA-256 of the trusted CAs as parsed (DER), whatever file or bundle they came from. */
static void ca_digest(const mbedtls_x509_crt *ca, unsigned char out[32])
{
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    for (; ca && ca->raw.len; ca = ca->next)
        mbedtls_sha256_update_ret(&c, ca->raw.p, ca->raw.len);
    mbedtls_sha256_finish_ret(&c, out);
    mbedtls_sha256_free(&c);
}

static void kept_clear(void)
{
    static const unsigned char zero[4];
    hal_rtc_write(HAL_RTC_TLS_OFF, zero, sizeof zero);
    kept_fresh = false;
}

/* Seconds since left_s was last counted, rounded up, with 1/16 more for the drift of the
 * RTC clock over the sleep; false when unknown (this wake began with a reset). */
static bool kept_elapsed(uint32_t *s)
{
    uint32_t now = hal_millis(), ms;
    if (kept_fresh) {
        *s = (now - kept_at_ms) / 1000 + 1;
        return true;
    }
    if (hal_slept_ms(&ms) != BH_OK)
        return false;
    ms = ms / 1000 + 1;
    *s = ms + ms / 16 + now / 1000 + 1;
    return true;
}

/* Lifetime left now of a kept left_s (0: past it), or -1 when the time off is unknown. */
static int64_t kept_left(uint32_t left)
{
    uint32_t elapsed;
    if (!kept_elapsed(&elapsed))
        return -1;
    return left > elapsed ? left - elapsed : 0;
}

void tls_before_sleep(void)
{
    unsigned char r[16];
    uint32_t left;
    if (hal_rtc_read(HAL_RTC_TLS_OFF, r, sizeof r) != BH_OK)
        return;
    int rc = tls_kept_get_left(r, &left);
    if (rc == TLS_KEPT_NONE)
        return;
    int64_t now = rc == TLS_KEPT_OK ? kept_left(left) : -1;
    if (now <= 0) {
        kept_clear();
        return;
    }
    tls_kept_set_left(r, (uint32_t)now);
    hal_rtc_write(HAL_RTC_TLS_OFF + 8, r + 8, 8);
}

/* The kept session for this host and these CAs, if there is one still in its lifetime:
 * restored into t->ssl, and its record left in k. Returns its kind ("ticket", "session id")
 * or NULL. *no_tickets: the record says this server's tickets do not fit, so none is asked
 * for (the server then gives a session id, if it keeps a cache). */
static const char *kept_offer(session *t, const hal_tls_params *p, const unsigned char ca[32],
                              tls_kept *k, bool *no_tickets)
{
    unsigned char r[HAL_RTC_TLS_SIZE];
    *no_tickets = false;
    if (hal_rtc_read(HAL_RTC_TLS_OFF, r, sizeof r) != BH_OK)
        return NULL;
    int rc = tls_kept_decode(r, p->host, ca, k);
    mbedtls_platform_zeroize(r, sizeof r);
    if (rc == TLS_KEPT_NONE)
        return NULL;
    if (rc != TLS_KEPT_OK) {
        note(p->host, BH_ERR_PROTO, "%s: %s", rc == TLS_KEPT_LAYOUT
             ? "the TLS session in RTC memory has another layout: ignored, full handshake"
             : "the TLS session in RTC memory is for another host or other CAs, or corrupt: "
               "ignored, full handshake");
        return NULL;
    }
    int64_t left = kept_left(k->left_s);
    if (left <= 0) {
        note(p->host, BH_OK, "%s: %s", left < 0 ? "the age of the kept TLS session is unknown "
             "(a reset, not a deep sleep): full handshake" : "the kept TLS session is past its "
             "lifetime: full handshake");
        return NULL;
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (k->no_tickets) {
        *no_tickets = true;
        mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    }
#endif
    if (k->len == 0)
        return NULL;                   /* the flag alone: no session to offer */
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    sess.ciphersuite = k->ciphersuite;
    sess.compression = MBEDTLS_SSL_COMPRESS_NULL;
    memcpy(sess.master, k->master, sizeof sess.master);
    /* encrypt-then-MAC and the extended master secret come from the server's hello again */
    const char *kind = "session id";
    if (k->ticket) {
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
        sess.ticket = malloc(k->len);
        if (!sess.ticket)
            return NULL;
        memcpy(sess.ticket, k->data, k->len);
        sess.ticket_len = k->len;
        sess.ticket_lifetime = (uint32_t)left;
        kind = "ticket";
#else
        return NULL;
#endif
    } else {
        memcpy(sess.id, k->data, k->len);   /* at most 32: tls_kept_decode() checked */
        sess.id_len = k->len;
    }
    int ret = mbedtls_ssl_set_session(&t->ssl, &sess);
    mbedtls_ssl_session_free(&sess);
    return ret == 0 ? kind : NULL;
}

/* After a handshake: keep its session for the next wake. old: the record offered, or NULL;
 * no_tickets: no ticket was asked for (kept_offer). A resumed session whose ticket or id did
 * not change is left as it is: its lifetime runs from the full handshake that made it. */
static const char *kept_store(session *t, const hal_tls_params *p, const unsigned char ca[32],
                              const tls_kept *old, bool resumed, bool no_tickets,
                              uint32_t started_ms, char *why, size_t cap)
{
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    const char *kind = NULL;
    bool keep = resumed;               /* leave the record as it is */
    tls_kept k;
    unsigned char r[HAL_RTC_TLS_SIZE];
    memset(&k, 0, sizeof k);
    if (mbedtls_ssl_get_session(&t->ssl, &sess) != 0)
        goto out;
    k.left_s = KEPT_ID_LIFETIME_S;
    k.no_tickets = no_tickets;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    /* mbedTLS leaves the ticket it offered in a session the server did not resume when no
     * new ticket came: that one is dead */
    bool same = old && old->ticket && old->len == sess.ticket_len &&
                memcmp(old->data, sess.ticket, sess.ticket_len) == 0;
    if (same && !resumed) {
        sess.ticket_len = 0;
    } else if (sess.ticket_len > 0 && sess.ticket_len <= TLS_KEPT_DATA_MAX) {
        if (same) {
            kind = "ticket";           /* resumed, no new ticket: kept as it was */
            goto out;
        }
        k.ticket = true;
        k.len = (uint8_t)sess.ticket_len;
        memcpy(k.data, sess.ticket, sess.ticket_len);
        k.left_s = sess.ticket_lifetime ? sess.ticket_lifetime : KEPT_ID_LIFETIME_S;
        if (k.left_s > KEPT_TICKET_MAX_S)
            k.left_s = KEPT_TICKET_MAX_S;
        kind = "ticket";
    } else if (sess.ticket_len > 0) {
        snprintf(why, cap, "; its %u-byte ticket does not fit RTC memory",
                 (unsigned)sess.ticket_len);
        k.no_tickets = true;           /* so the next handshake asks for a session id */
    }
#endif
    if (!kind) {
        if (sess.id_len >= 16 && sess.id_len <= 32) {
            if (resumed) {
                kind = "session id";   /* the same id: kept as it was */
                goto out;
            }
            k.len = (uint8_t)sess.id_len;
            memcpy(k.data, sess.id, sess.id_len);
            kind = "session id";
        } else if (k.no_tickets) {
            /* no session to keep, but the next handshake asks for no ticket; a flag kept from
             * before stays as it is, so that tickets are tried again once it expires */
            keep = no_tickets;
            if (!keep)
                kind = KEPT_NO_TICKETS_NOTE;
        } else {
            goto out;                  /* the server offers no resumption at all */
        }
    }
    if (keep)
        goto out;
    k.ciphersuite = (uint16_t)sess.ciphersuite;
    memcpy(k.master, sess.master, sizeof k.master);
    tls_kept_encode(&k, p->host, ca, r);
    if (hal_rtc_write(HAL_RTC_TLS_OFF, r, sizeof r) != BH_OK) {
        kind = NULL;
    } else {
        kept_fresh = true;             /* counted from the handshake's start: ages early */
        kept_at_ms = started_ms;
    }
    mbedtls_platform_zeroize(r, sizeof r);
out:
    if (!kind && !keep)
        kept_clear();
    mbedtls_ssl_session_free(&sess);
    mbedtls_platform_zeroize(&k, sizeof k);
    return kind;
}

/* ---- A host that is an IP address ---------------------------------------------------------
 *
 * mbedTLS 2.28 matches the name given to mbedtls_ssl_set_hostname() only against the
 * certificate's dNSName entries (or its CN): a certificate issued for an address carries it as
 * an iPAddress entry (RFC 5280 4.2.1.6), which 2.28 lists in subject_alt_names but never
 * compares. And RFC 6066 section 3 forbids an address as SNI. So for an address the chain is
 * verified without a name, and verify_ip() checks the leaf's iPAddress entries itself. */

/* host as net/url.c reads an IPv4 address: digits and dots only, four parts of at most 255. */
static bool host_ipv4(const char *h, unsigned char ip[4])
{
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *h++ != '.')
            return false;
        unsigned v = 0, digits = 0;
        while (*h >= '0' && *h <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*h++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        ip[part] = (unsigned char)v;
    }
    return *h == 0;
}

/* mbedTLS's verify callback, for each certificate of the chain, root first: the leaf (depth 0)
 * must hold the address among its subjectAltName iPAddress entries, or the handshake fails as
 * for a wrong name, before anything is sent. */
static int verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    session *t = ctx;
    if (depth != 0)
        return 0;
    for (const mbedtls_x509_sequence *san = &crt->subject_alt_names; san && san->buf.p;
         san = san->next)
        if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) &&
            san->buf.len == 4 && memcmp(san->buf.p, t->ip, 4) == 0)
            return 0;
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    t->ip_mismatch = true;
    return 0;
}

/* The board's random number generator seeds the DRBG, as the ESP8266's hardware one would:
 * mbedtls_entropy_init() would also start Debian's HAVEGE, about a million instructions a
 * handshake that no chip port spends. */
static int board_entropy(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    hal_random(out, len);
    return 0;
}

int hal_tls_start(int s, const hal_tls_params *p, uint32_t timeout_ms)
{
    if (!p || !p->host || !p->host[0] || !port_sock_valid(s) || find(s))
        return BH_ERR_ARG;
    session *t = NULL;
    for (int i = 0; i < TLS_MAX_SESSIONS && !t; i++)
        if (!sessions[i].used)
            t = &sessions[i];
    if (!t)
        return BH_ERR_NOMEM;
    memset(t, 0, sizeof *t);
    t->used = true;
    t->s = s;
    uint32_t start = hal_millis();
    t->deadline = start + timeout_ms;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ctr_drbg_init(&t->drbg);

    int rc = load_cas(t, p);
    if (rc < 0) {
        free_session(t);
        return rc;
    }
    static const unsigned char pers[] = "buttonhook";
    int ret = mbedtls_ctr_drbg_seed(&t->drbg, board_entropy, NULL, pers, sizeof pers - 1);
    if (ret == 0)
        ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) {
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
        mbedtls_ssl_conf_session_tickets(&t->conf, p->resume ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                             : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
        mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
        t->is_ip = host_ipv4(p->host, t->ip);
        if (t->is_ip)
            mbedtls_ssl_conf_verify(&t->conf, verify_ip, t);
        ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    }
    /* a name: SNI and the name check. An address: no SNI and no name check, said explicitly
     * with NULL (mbedTLS 2.28.10 and 3.6.3 refuse to verify a chain when no name was set). */
    if (ret == 0)
        ret = mbedtls_ssl_set_hostname(&t->ssl, t->is_ip ? NULL : p->host);
    /* the chapter's handshake (resume false) asks for no ticket and offers no session */
    unsigned char ca[32];
    tls_kept kept;
    const char *offered = NULL;
    bool no_tickets = false;
    if (ret == 0 && p->resume) {
        ca_digest(&t->ca, ca);
        offered = kept_offer(t, p, ca, &kept, &no_tickets);
    }
    if (ret != 0) {
        char e[128];
        mbedtls_strerror(ret, e, sizeof e);
        note(p->host, BH_ERR_TLS, "%s: set-up failed: %s", e);
        free_session(t);
        return BH_ERR_TLS;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);

    /* mbedtls_ssl_handshake() step by step, to see which way it went: a server that resumes
     * skips from its hello to ChangeCipherSpec; one that refuses sends its certificate. */
    rc = BH_OK;
    bool full = false;
    while (t->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        ret = mbedtls_ssl_handshake_step(&t->ssl);
        if (t->ssl.state == MBEDTLS_SSL_SERVER_CERTIFICATE)
            full = true;
        if (ret == 0)
            continue;
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
            if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
                (flags != 0 && flags != (uint32_t)-1)) {
                char info[384];
                int n = 0;
                if (t->ip_mismatch) {   /* mbedTLS's own words would speak of a CN */
                    flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
                    n = snprintf(info, sizeof info, "its subjectAltName has no IP address %s%s",
                                 p->host, flags ? "\n" : "");
                }
                info[n] = 0;
                if (flags)
                    mbedtls_x509_crt_verify_info(info + n, sizeof info - (size_t)n, "", flags);
                for (char *c = info; *c; c++)
                    if (*c == '\n')
                        *c = *(c + 1) ? ';' : 0;
                note(p->host, BH_ERR_CERT, "%s: certificate rejected: %s", info);
                rc = BH_ERR_CERT;
            } else if (ret == MBEDTLS_ERR_NET_CONN_RESET) {
                note(p->host, BH_ERR_RESET, "%s: %s", "connection reset during the handshake");
                rc = BH_ERR_RESET;
            } else {
                char e[128];
                mbedtls_strerror(ret, e, sizeof e);
                note(p->host, BH_ERR_TLS, "%s: handshake failed: %s", e);
                rc = BH_ERR_TLS;
            }
            break;
        }
        rc = wait_io(t, ret);
        if (rc < 0)
            break;
    }
    bool resumed = rc == BH_OK && offered && !full;
    port_tls_handshake(s, hal_millis() - start, rc, resumed);
    if (rc < 0) {
        /* a session that may be what the server choked on is not offered again */
        if (offered && rc != BH_ERR_TIMEOUT)
            kept_clear();
        mbedtls_platform_zeroize(&kept, sizeof kept);
        free_session(t);
        return rc;
    }
    char info[320], why[64] = "";
    const char *kind =
        p->resume ? kept_store(t, p, ca, offered ? &kept : NULL, resumed, no_tickets, start, why,
                               sizeof why)
                  : NULL;
    mbedtls_platform_zeroize(&kept, sizeof kept);
    int n = snprintf(info, sizeof info, "%s %s, ", mbedtls_ssl_get_version(&t->ssl),
                     mbedtls_ssl_get_ciphersuite(&t->ssl));
    if (resumed)
        snprintf(info + n, sizeof info - (size_t)n, "session resumed (%s kept in RTC memory)",
                 offered);
    else
        snprintf(info + n, sizeof info - (size_t)n, "full handshake%s, certificate verified "
                 "against %s%s%s%s", offered ? " (the server refused the kept session)" : "",
                 p->ca_file ? p->ca_file : "the board's CA bundle", why,
                 kind && strcmp(kind, KEPT_NO_TICKETS_NOTE) != 0
                     ? "; session kept in RTC memory: " : "", kind ? kind : "");
    note(p->host, BH_OK, "%s: %s", info);
    return BH_OK;
}

static int record_error(int ret)
{
    if (ret == MBEDTLS_ERR_NET_CONN_RESET)
        return BH_ERR_RESET;
    return BH_ERR_TLS;
}

int tls_send(int s, const void *buf, size_t len, uint32_t timeout_ms)
{
    session *t = find(s);
    if (!t)
        return BH_ERR_ARG;
    t->deadline = hal_millis() + timeout_ms;
    size_t done = 0;
    while (done < len) {
        int ret = mbedtls_ssl_write(&t->ssl, (const unsigned char *)buf + done, len - done);
        if (ret > 0) {
            done += (size_t)ret;
            continue;
        }
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            return record_error(ret);
        int rc = wait_io(t, ret);
        if (rc < 0)
            return rc;
    }
    /* the request, with a resumed handshake's last flight before it, leaves in one segment */
    int ret;
    while ((ret = flush(t)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            return record_error(ret);
        int rc = wait_io(t, ret);
        if (rc < 0)
            return rc;
    }
    return (int)len;
}

int tls_recv(int s, void *buf, size_t cap, uint32_t timeout_ms)
{
    session *t = find(s);
    if (!t)
        return BH_ERR_ARG;
    t->deadline = hal_millis() + timeout_ms;
    for (;;) {
        int ret = mbedtls_ssl_read(&t->ssl, buf, cap);
        if (ret > 0)
            return ret;
        /* an orderly end: close_notify, or a server that just closes (common with
         * "Connection: close"); the HTTP layer knows from the framing whether that is early */
        if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF)
            return 0;
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            return record_error(ret);
        int rc = wait_io(t, ret);
        if (rc < 0)
            return rc;
    }
}

void tls_end(int s)
{
    session *t = find(s);
    if (!t)
        return;
    mbedtls_ssl_close_notify(&t->ssl);   /* best effort: never wait for it */
    flush(t);
    free_session(t);
}

void tls_end_all(void)
{
    for (int i = 0; i < TLS_MAX_SESSIONS; i++)
        if (sessions[i].used)
            free_session(&sessions[i]);
}
