/* tls_mbedtls.c - hal_tls_start() and TLS records on port sockets, with mbedTLS 2.28.
 *
 * Verification is REQUIRED: the chapter's MicroPython (axTLS) checked nothing, so anyone on
 * the path could read the webhook key; here an untrusted or misnamed certificate stops the
 * request before a byte of it is sent. See tls_mbedtls.h for the split with the port. */
#define _POSIX_C_SOURCE 200809L
#include "tls_mbedtls.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
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

typedef struct {
    bool used;
    int s;
    uint32_t deadline;          /* hal_millis() by which the current call must end */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_entropy_context entropy;
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
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    session *t = ctx;
    int n = port_sock_send(t->s, buf, len);
    if (n == PORT_WOULD_BLOCK)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (n < 0)
        return n == BH_ERR_RESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
    return n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    session *t = ctx;
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
    mbedtls_entropy_free(&t->entropy);
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
    mbedtls_entropy_init(&t->entropy);

    int rc = load_cas(t, p);
    if (rc < 0) {
        free_session(t);
        return rc;
    }
    static const unsigned char pers[] = "buttonhook";
    int ret = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, pers,
                                    sizeof pers - 1);
    if (ret == 0)
        ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) {
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
        mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
        ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    }
    if (ret == 0)
        ret = mbedtls_ssl_set_hostname(&t->ssl, p->host);   /* SNI and the name check */
    if (ret != 0) {
        char e[128];
        mbedtls_strerror(ret, e, sizeof e);
        note(p->host, BH_ERR_TLS, "%s: set-up failed: %s", e);
        free_session(t);
        return BH_ERR_TLS;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);

    rc = BH_OK;
    while ((ret = mbedtls_ssl_handshake(&t->ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
            if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
                (flags != 0 && flags != (uint32_t)-1)) {
                char info[384];
                mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
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
    port_tls_handshake(s, hal_millis() - start, rc);
    if (rc < 0) {
        free_session(t);
        return rc;
    }
    char info[160];
    snprintf(info, sizeof info, "%s %s, certificate verified against %s",
             mbedtls_ssl_get_version(&t->ssl), mbedtls_ssl_get_ciphersuite(&t->ssl),
             p->ca_file ? p->ca_file : "the board's CA bundle");
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
    free_session(t);
}

void tls_end_all(void)
{
    for (int i = 0; i < TLS_MAX_SESSIONS; i++)
        if (sessions[i].used)
            free_session(&sessions[i]);
}
