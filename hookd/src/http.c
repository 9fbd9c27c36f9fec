/* http.c - see http.h. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "framing.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "trigger.h"
#include "web.h"

/* Per connection: request line + headers. libmicrohttpd clears the whole of this memory
 * before each request (its pool reset), 2.5-8.7 % of a trigger's CPU time; 16 KB was tried
 * and made libmicrohttpd answer requests still trickling in that hookd must close without a
 * reply (test_attacks_http; docs/http-front.md), so it stays at 32 KB. */
#define HEADER_MEMORY_LIMIT (32 * 1024)
#define IDEM_KEY_MAX 255

/* One open connection, as the guard sees it (docs/hookd.md, "Slow clients and the connection
 * budget"). libmicrohttpd's own idle timeout restarts at every byte received, so a client
 * sending a header byte a second holds its connection forever, and once the connection limit
 * is reached new clients wait in the kernel's accept queue behind it. The guard keeps, for
 * each connection waiting for a request (idle, or its headers or body still coming), when
 * that wait began; a thread closes those past their deadline, and a new connection beyond
 * the budget's high mark closes the one that has waited longest, so a new client always
 * finds room. Connections busy with a request (parsed, in the group commit, replying) are
 * never touched: a 200 is never lost to the guard. */
typedef struct hk_conn {
    struct hk_conn *prev, *next;   /* in the waiting list, oldest wait first */
    MHD_socket fd;
    int64_t since_us;              /* opened, or its previous reply sent */
    /* when its headers were complete; 0 before. Atomic: the HTTP thread sets it without the
     * guard's lock (one lock less per request); the guard reads it under the lock */
    _Atomic int64_t headers_us;
    bool waiting;                  /* in the list */
    bool shed;                     /* shut down by the guard; libmicrohttpd closes it next */
    /* the client's address as text and its rate-limit bucket, made once per connection
     * rather than per request (inet_ntop's formatting was 4 % of a trigger's instructions) */
    char ip[INET6_ADDRSTRLEN], bucket[INET6_ADDRSTRLEN];
} hk_conn;

static void client_ip(struct MHD_Connection *c, char *out, size_t cap);
static void client_bucket(const char *ip, char *out, size_t cap);

struct hk_http {
    hk_app *app;
    struct MHD_Daemon *d;
    int listen_fd;               /* closed by MHD_stop_daemon, or by hk_http_stop when hookd
                                  * accepts (poll() mode) */
    pthread_t acceptor;          /* poll() mode: accepts for libmicrohttpd (acceptor_main) */
    bool own_accept, acceptor_started;
    unsigned handed;             /* own_accept: handed to libmicrohttpd and not yet closed */
    pthread_cond_t room;         /* own_accept: signalled when one of those closes */
    atomic_bool quiesced;        /* stopping: connections accepted now are closed at once */
    atomic_int inflight;         /* requests between their first byte and their end */
    /* the guard */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t guard;
    bool guard_started, stopping;
    hk_conn *head, *tail;        /* connections waiting for a request, oldest first */
    unsigned open, shedding;     /* open connections; those shut down but not yet closed */
    unsigned high;               /* beyond this many (less those shedding), shed the oldest */
    uint64_t shed_budget, shed_headers, shed_body;   /* since the last log line */
};

typedef enum { R_NONE, R_TRIGGER, R_IP, R_METRICS, R_API } route;
/* PH_LOGIN: suspended while a hash thread answers an API request that hashes a password */
typedef enum { PH_NEW, PH_BODY, PH_WAIT, PH_LOGIN, PH_DONE } phase;

typedef struct req {
    hk_http *h;
    struct MHD_Connection *conn;
    hk_conn *hc;                 /* the guard's entry for the connection, or NULL */
    char *path, *query;          /* raw, split from the request target */
    char ip[INET6_ADDRSTRLEN];
    int64_t start_us;
    route rt;
    phase ph;
    char *body;
    size_t len, cap;
    bool too_large;
    bool close;                  /* framing not to be trusted: close after the reply */
    bool busy;                   /* conn_busy done */
    /* triggers */
    hk_route tr;
    hk_event *event;
    char *idem;
    hk_commit commit;
    /* an API request answered on a hash thread (serve_api) */
    const char *method;
    hk_api_reply api;
    bool api_busy;               /* the hash queue was full: api holds a 503 */
} req;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the guard: deadlines for requests, and room for new clients ---- */

static void list_remove(hk_http *h, hk_conn *c)
{
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        h->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
}

static void list_append(hk_http *h, hk_conn *c)
{
    c->prev = h->tail;
    c->next = NULL;
    if (h->tail)
        h->tail->next = c;
    else
        h->head = c;
    h->tail = c;
    c->waiting = true;
}

/* Under h->mu. shutdown(), not close(): the socket stays libmicrohttpd's; its thread sees the
 * end of the stream at its next poll and closes the connection, and only then (the CLOSED
 * notification, under the same mutex) does the entry go, so the fd cannot have been reused
 * by another connection when it is shut down here. */
static void shed(hk_http *h, hk_conn *c, uint64_t *counter)
{
    list_remove(h, c);
    c->shed = true;
    h->shedding++;
    (*counter)++;
    shutdown(c->fd, SHUT_RDWR);
}

/* Stopping: a connection accepted after hk_http_quiesce() is closed at once, never read. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)addr;
    (void)len;
    return atomic_load(&((hk_http *)cls)->quiesced) ? MHD_NO : MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    hk_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        hk_conn *c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c)
            return;   /* out of memory: the connection is served, unguarded */
        client_ip(connection, c->ip, sizeof c->ip);
        client_bucket(c->ip, c->bucket, sizeof c->bucket);
        if (!ci)
            return;
        c->fd = ci->connect_fd;
        c->since_us = mono_us();
        pthread_mutex_lock(&h->mu);
        h->open++;
        /* Beyond the high mark, the connection that has waited longest for a request makes
         * room: the new one is not yet in the list, so it is never the one shed. */
        while (h->open - h->shedding > h->high && h->head)
            shed(h, h->head, &h->shed_budget);
        list_append(h, c);
        pthread_mutex_unlock(&h->mu);
        return;
    }
    hk_conn *c = *socket_context;
    if (h->own_accept) {
        pthread_mutex_lock(&h->mu);
        if (h->handed-- == h->app->cfg.connections)
            pthread_cond_signal(&h->room);
        pthread_mutex_unlock(&h->mu);
    }
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    list_remove(h, c);
    h->open--;
    if (c->shed)
        h->shedding--;
    pthread_mutex_unlock(&h->mu);
    free(c);
    *socket_context = NULL;
}

static hk_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request's headers are all in: from now on its body's deadline runs. */
static void conn_headers(hk_conn *c)
{
    if (c)
        atomic_store(&c->headers_us, mono_us());
}

/* The whole request is in (or answered early): no deadline, never shed. Once per request:
 * a trigger is marked busy before its group commit and again by its reply. */
static void conn_busy(req *r)
{
    if (!r->hc || r->busy)
        return;
    r->busy = true;
    pthread_mutex_lock(&r->h->mu);
    list_remove(r->h, r->hc);
    pthread_mutex_unlock(&r->h->mu);
}

/* Its reply is sent: the connection waits for its next request, newest in the list. */
static void conn_wait(hk_http *h, hk_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    if (!c->shed) {
        list_remove(h, c);
        c->since_us = mono_us();
        c->headers_us = 0;
        list_append(h, c);
    }
    pthread_mutex_unlock(&h->mu);
}

/* poll() mode: hookd accepts and hands each connection to libmicrohttpd. Its poll() loop
 * accepts one connection per turn, and a turn walks every connection of its thread, so with
 * the budget full of clients being shed and reconnecting a new client waited in the accept
 * queue behind them (docs/hookd.md, Security). This thread takes every connection waiting
 * at once; MHD_add_connection() applies the same limits (budget, per address, on_accept)
 * and wakes the thread that will serve it. It ends when the listening socket is shut down
 * (hk_http_quiesce, hk_http_stop): accept() then fails with EINVAL. */
static void *acceptor_main(void *arg)
{
    hk_http *h = arg;
    for (;;) {
        /* At the budget, the next client waits in the kernel's queue, as with libmicrohttpd's
         * own accept, until a connection closes (the guard sheds to make room) */
        pthread_mutex_lock(&h->mu);
        while (h->handed >= h->app->cfg.connections && !atomic_load(&h->quiesced))
            pthread_cond_wait(&h->room, &h->mu);
        pthread_mutex_unlock(&h->mu);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            pthread_mutex_lock(&h->mu);
            h->handed++;
            pthread_mutex_unlock(&h->mu);
            if (MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, sl) != MHD_YES) {
                pthread_mutex_lock(&h->mu);   /* refused and closed: no notification comes */
                h->handed--;
                pthread_mutex_unlock(&h->mu);
            }
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {.fd = h->listen_fd, .events = POLLIN};
            (void)poll(&p, 1, -1);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* out of descriptors: wait for some to close rather than spin */
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        return NULL;   /* EINVAL: shut down */
    }
}

static void *guard_main(void *arg)
{
    hk_http *h = arg;
    const hk_config *cfg = &h->app->cfg;
    int64_t header_us = (int64_t)cfg->header_timeout_s * 1000000;
    int64_t body_us = (int64_t)cfg->body_timeout_s * 1000000;
    int64_t last_log = mono_us();
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        /* a tenth of a second: deadlines are kept to that, at a cost of a walk over the
         * waiting connections (at most limits.connections) ten times a second */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        int64_t now = mono_us();
        for (hk_conn *c = h->head, *next; c; c = next) {
            next = c->next;
            if (!c->headers_us && now - c->since_us > header_us)
                shed(h, c, &h->shed_headers);
            else if (c->headers_us && now - c->headers_us > body_us)
                shed(h, c, &h->shed_body);
        }
        /* one line at most every 10 s, not one per connection: an attack must not flood
         * the log */
        if (now - last_log >= 10 * 1000000 &&
            (h->shed_budget || h->shed_headers || h->shed_body)) {
            hk_log("http: closed %llu connections past the header deadline (%us), %llu past "
                   "the body deadline (%us), %llu waiting ones to make room (%u of %u open)",
                   (unsigned long long)h->shed_headers, cfg->header_timeout_s,
                   (unsigned long long)h->shed_body, cfg->body_timeout_s,
                   (unsigned long long)h->shed_budget, h->open, cfg->connections);
            h->shed_budget = h->shed_headers = h->shed_body = 0;
            last_log = now;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!ci || !ci->client_addr)
        return;
    /* inet_ntop rather than getnameinfo(NI_NUMERICHOST): the same text for a client
     * address, without getnameinfo's work per request */
    const struct sockaddr *sa = ci->client_addr;
    const void *a = NULL;
    int family = sa->sa_family;
    if (family == AF_INET) {
        a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        a = a6;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {   /* an IPv4 client on a v6 socket */
            family = AF_INET;
            a = a6->s6_addr + 12;
        }
    }
    if (!a || !inet_ntop(family, a, out, (socklen_t)cap))
        snprintf(out, cap, "unknown");
}

/* the rate limiter's name for a client: its address, or its /64 for IPv6 */
static void client_bucket(const char *ip, char *out, size_t cap)
{
    struct in6_addr a6;
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a6, out, (socklen_t)cap);
    } else {
        snprintf(out, cap, "%s", ip);
    }
}

/* the request's bucket: its connection's, or made now in buf (INET6_ADDRSTRLEN) */
static const char *req_bucket(const req *r, char *buf)
{
    if (r->hc)
        return r->hc->bucket;
    client_bucket(r->ip, buf, INET6_ADDRSTRLEN);
    return buf;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    hk_http *h = cls;
    req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_fetch_add(&h->inflight, 1);
    r->h = h;
    r->conn = c;
    r->hc = conn_of(c);
    r->start_us = mono_us();
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    r->path = strndup(uri, plen);
    r->query = q ? strdup(q + 1) : NULL;
    if (r->hc)
        memcpy(r->ip, r->hc->ip, sizeof r->ip);
    else
        client_ip(c, r->ip, sizeof r->ip);
    return r;
}

static void trigger_note(req *r, int status, const char *msg, bool gone);

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    hk_http *h = cls;
    conn_wait(h, conn_of(c));
    req *r = *con_cls;
    if (!r)
        return;
    /* a trigger stored (or not) whose client left before its reply: still logged, counted */
    if (r->rt == R_TRIGGER && r->ph == PH_WAIT)
        trigger_note(r,
                     r->commit.status == HK_COMMIT_STORED ||
                             r->commit.status == HK_COMMIT_DUPLICATE
                         ? 200
                         : 503,
                     r->commit.error[0] ? r->commit.error : "store error", true);
    free(r->api.body);
    free(r->path);
    free(r->query);
    free(r->body);
    free(r->idem);
    hk_route_clear(&r->tr);
    hk_event_free(r->event);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    hk_log("http: %s", msg);
}

/* Queues a reply. headers: name, value pairs, NULL-terminated. */
static enum MHD_Result send_reply(req *r, int status, const char *ctype, const char *body,
                                  size_t len, ...)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    va_list ap;
    va_start(ap, len);
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        const char *value = va_arg(ap, const char *);
        MHD_add_response_header(resp, name, value);
    }
    va_end(ap);
    /* a body too large is left unread, and one whose framing is not to be trusted may hold
     * anything: the connection cannot carry another request */
    if (status == 413 || r->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    conn_busy(r);
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->ph = PH_DONE;
    return ok;
}

static const char json_ctype[] = "application/json; charset=utf-8";

static enum MHD_Result send_error(req *r, int status, const char *msg, const char *hname,
                                  const char *hvalue)
{
    json_t *j = json_pack("{s:[{s:s}]}", "errors", "message", msg);
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum MHD_Result ok = send_reply(r, status, json_ctype, body, body ? strlen(body) : 0, hname,
                                    hvalue, NULL);
    free(body);
    return ok;
}

/* ---- triggers ---- */

/* A log message put together without printf: at most max bytes of s, or a number. */
typedef struct {
    char *p;
    size_t n, cap;
} lbuf;

static void lb_put(lbuf *b, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    if (len > b->cap - b->n)
        len = b->cap - b->n;
    memcpy(b->p + b->n, s, len);
    b->n += len;
}

static void lb_int(lbuf *b, int64_t v)
{
    char t[24];
    size_t i = sizeof t;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do
        t[--i] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        t[--i] = '-';
    lb_put(b, t + i, sizeof t - i);
}

/* The trigger's metrics and its log line (one per trigger, docs/hookd.md); gone: its client
 * left before the reply, which does not undo the event's storing. */
static void trigger_note(req *r, int status, const char *msg, bool gone)
{
    const char *left = gone ? "; the client left before the reply" : "";
    hk_trigger_result res = hk_metrics_result_of(status);
    if (status == 200 && r->commit.status == HK_COMMIT_DUPLICATE)
        res = HK_TRIG_DUPLICATE;
    int64_t us = mono_us() - r->start_us;
    hk_metrics_trigger(res, us);

    char key[16];
    const char *ev = r->tr.event ? r->tr.event : "";
    if (status == 200 && res == HK_TRIG_DUPLICATE)
        hk_log("trigger \"%.80s\" from %s key %s -> 200 repeat of event %lld (Idempotency-Key)%s",
               r->commit.dup_name, r->ip, hk_mask(r->tr.key, key, sizeof key),
               (long long)r->commit.event_id, left);
    else if (status == 200) {
        /* The line every stored trigger makes, put together by hand: through vsnprintf it
         * was 8 % of a trigger's instructions. The same text as
         * "trigger \"%.80s\"%s from %s key %s -> 200 event %lld, %d deliver%s (%lld.%lld ms)%s" */
        char m[512];
        lbuf b = {m, 0, sizeof m};
        lb_put(&b, "trigger \"", 80);
        lb_put(&b, ev, 80);
        lb_put(&b, r->tr.json ? "\" (json) from " : "\" from ", 80);
        lb_put(&b, r->ip, sizeof r->ip);
        lb_put(&b, " key ", 80);
        lb_put(&b, hk_mask(r->tr.key, key, sizeof key), sizeof key);
        lb_put(&b, " -> 200 event ", 80);
        lb_int(&b, r->commit.event_id);
        lb_put(&b, ", ", 80);
        lb_int(&b, r->commit.deliveries);
        lb_put(&b, r->commit.deliveries == 1 ? " delivery (" : " deliveries (", 80);
        lb_int(&b, (us + 50) / 1000);   /* tenths of a millisecond, in integers */
        lb_put(&b, ".", 80);
        lb_int(&b, (us + 50) / 100 % 10);
        lb_put(&b, " ms)", 80);
        lb_put(&b, left, 80);
        hk_log_text(m, b.n);
    }
    else if (r->tr.event)
        hk_log("trigger \"%.80s\" from %s key %s -> %d %s%s", ev, r->ip,
               hk_mask(r->tr.key, key, sizeof key), status, msg, left);
    else
        hk_log("trigger from %s -> %d %s", r->ip, status, msg);
}

/* Each HTTP thread keeps the last 200 it sent: the next trigger of the same event (the usual
 * case: a button sends the same one) queues that response again rather than building a new
 * one (an allocation and a copy of the body, the header's three, and their frees).
 * libmicrohttpd counts a response's users, so one can be queued on several connections; the
 * thread's reference goes when the thread ends. */
typedef struct {
    struct MHD_Response *resp;
    size_t len;
    char body[600];
} last_200;

static pthread_key_t last_200_key;
static pthread_once_t last_200_once = PTHREAD_ONCE_INIT;

static void last_200_free(void *p)
{
    last_200 *l = p;
    if (l->resp)
        MHD_destroy_response(l->resp);
    free(l);
}

static void last_200_init(void)
{
    if (pthread_key_create(&last_200_key, last_200_free) != 0)
        last_200_key = (pthread_key_t)-1;
}

static enum MHD_Result send_200(req *r, const char *msg)
{
    size_t len = strlen(msg);
    pthread_once(&last_200_once, last_200_init);
    last_200 *l = last_200_key == (pthread_key_t)-1 ? NULL : pthread_getspecific(last_200_key);
    if (!l && last_200_key != (pthread_key_t)-1 && (l = calloc(1, sizeof *l)) &&
        pthread_setspecific(last_200_key, l) != 0) {
        free(l);
        l = NULL;
    }
    if (r->close || !l || len >= sizeof l->body)
        return send_reply(r, 200, "text/html; charset=utf-8", msg, len, NULL);
    if (!l->resp || l->len != len || memcmp(l->body, msg, len) != 0) {
        if (l->resp)
            MHD_destroy_response(l->resp);
        memcpy(l->body, msg, len);
        l->len = len;
        l->resp = MHD_create_response_from_buffer(len, l->body, MHD_RESPMEM_MUST_COPY);
        if (!l->resp)
            return MHD_NO;
        MHD_add_response_header(l->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/html; charset=utf-8");
    }
    conn_busy(r);
    enum MHD_Result ok = MHD_queue_response(r->conn, 200, l->resp);
    r->ph = PH_DONE;
    return ok;
}

static enum MHD_Result trigger_done(req *r, int status, const char *msg, const char *hname,
                                    const char *hvalue)
{
    trigger_note(r, status, msg, false);

    if (status == 200 && !hname)
        return send_200(r, msg);
    if (status == 200)
        return send_reply(r, 200, "text/html; charset=utf-8", msg, strlen(msg), hname, hvalue,
                          NULL);
    return send_error(r, status, msg, hname, hvalue);
}

/* The success body, as IFTTT's; the name is HTML-escaped as the reply is text/html. */
static void congrats(const char *name, bool json, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "Congratulations! You've fired the ");
    for (const char *p = name; *p && o + 8 < cap; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        }
        if (esc) {
            size_t n = strlen(esc);
            memcpy(out + o, esc, n);
            o += n;
        } else {
            out[o++] = *p;
        }
    }
    snprintf(out + o, cap - o, json ? " JSON event" : " event");
}

static void on_committed(hk_commit *c)
{
    req *r = c->arg;
    if (c->status == HK_COMMIT_STORED && c->deliveries > 0)
        hk_workers_kick_stored(r->h->app->workers);
    MHD_resume_connection(r->conn);
}

/* First call: everything that can be decided before the body arrives. */
static enum MHD_Result trigger_start(req *r, const char *method)
{
    hk_app *app = r->h->app;
    hk_reject rej;
    char bucket[INET6_ADDRSTRLEN], ra[16];
    int retry;
    if (!hk_limiter_take(app->per_ip, req_bucket(r, bucket), hk_now_ms(), &retry)) {
        snprintf(ra, sizeof ra, "%d", retry);
        return trigger_done(r, 429, "too many requests from your address; slow down",
                            MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (hk_trigger_route(r->path, &r->tr, &rej) != 0)
        return trigger_done(r, rej.status, rej.message, NULL, NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        return trigger_done(r, 405, "method not allowed: use GET or POST",
                            MHD_HTTP_HEADER_ALLOW, "GET, POST");
    char key[HK_KEY_MAX + 1];
    hk_app_key(app, key);
    if (!hk_secret_eq(r->tr.key, key))
        return trigger_done(r, 401, "You sent an invalid key.", NULL, NULL);
    if (!hk_limiter_take(app->per_key, key, hk_now_ms(), &retry)) {
        snprintf(ra, sizeof ra, "%d", retry);
        return trigger_done(r, 429, "too many requests for this key; slow down",
                            MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (atomic_load(&app->closing))
        return trigger_done(r, 503, "hookd is shutting down; try again soon",
                            MHD_HTTP_HEADER_RETRY_AFTER, "5");
    const char *idem = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (idem) {
        size_t n = strlen(idem);
        bool ok = n > 0 && n <= IDEM_KEY_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = idem[i] > 0x20 && idem[i] < 0x7f;
        if (!ok)
            return trigger_done(r, 400,
                                "Idempotency-Key: must be 1 to 255 visible ASCII characters",
                                NULL, NULL);
        r->idem = strdup(idem);
    }
    return MHD_YES;
}

/* Last call: the whole request is here. */
static enum MHD_Result trigger_finish(req *r, const char *method)
{
    hk_app *app = r->h->app;
    char key[HK_KEY_MAX + 1];
    hk_app_key(app, key);
    hk_request rq = {
        .method = method,
        .path = r->path,
        .query = r->query,
        .content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = r->body,
        .body_len = r->len,
    };
    hk_reject rej;
    r->event = hk_trigger_parse_routed(&rq, &r->tr, key, &rej);   /* routed at the start */
    if (!r->event)
        return trigger_done(r, rej.status, rej.message, NULL, NULL);
    r->event->occurred_at = (int64_t)time(NULL);
    r->event->source_ip = strdup(r->ip);
    r->commit = (hk_commit){.event = r->event, .idem_key = r->idem, .done = on_committed,
                            .arg = r};
    r->ph = PH_WAIT;
    conn_busy(r);
    /* suspend first: the writer may resume the connection before this function returns */
    MHD_suspend_connection(r->conn);
    if (hk_store_submit(app->store, &r->commit) != HK_OK) {
        r->commit.status = HK_COMMIT_ERROR;
        snprintf(r->commit.error, sizeof r->commit.error, "hookd is shutting down");
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

/* After the group commit: the answer. */
static enum MHD_Result trigger_answer(req *r)
{
    char body[600];
    switch (r->commit.status) {
    case HK_COMMIT_STORED:
        congrats(r->event->name, r->event->json, body, sizeof body);
        return trigger_done(r, 200, body, NULL, NULL);
    case HK_COMMIT_DUPLICATE:
        congrats(r->commit.dup_name, r->commit.dup_json, body, sizeof body);
        return trigger_done(r, 200, body, "Idempotent-Replayed", "true");
    default:
        snprintf(body, sizeof body,
                 "the event could not be stored durably, so it was not accepted (%s); "
                 "try again later",
                 r->commit.error[0] ? r->commit.error : "store error");
        return trigger_done(r, 503, body, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    }
}

/* ---- the other routes ---- */

static enum MHD_Result serve_ip(req *r, const char *method)
{
    hk_app *app = r->h->app;
    char bucket[INET6_ADDRSTRLEN], ra[16];
    int retry;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(r, 405, "use GET", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (!hk_limiter_take(app->per_ip, req_bucket(r, bucket), hk_now_ms(), &retry)) {
        snprintf(ra, sizeof ra, "%d", retry);
        return send_error(r, 429, "too many requests from your address; slow down",
                          MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    char body[INET6_ADDRSTRLEN + 2];
    snprintf(body, sizeof body, "%s\n", r->ip);
    return send_reply(r, 200, "text/plain; charset=utf-8", body, strlen(body), NULL);
}

static enum MHD_Result serve_metrics(req *r, const char *method)
{
    hk_app *app = r->h->app;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(r, 405, "use GET", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    int64_t pending = -1, running = -1, failed = -1;
    uint64_t batches, events;
    hk_store_delivery_counts(app->store, &pending, &running, &failed);
    hk_store_commit_stats(app->store, &batches, &events);
    char *text = hk_metrics_render(pending, running, failed, batches, events);
    if (!text)
        return send_error(r, 500, "out of memory", NULL, NULL);
    enum MHD_Result ok = send_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                                    strlen(text), NULL);
    free(text);
    return ok;
}

/* The web page: scripts and styles only from hookd itself (no inline script, no CDN), no
 * framing, and no Referer, as trigger URLs in the page hold the key. */
static const char page_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static const hk_web_asset *web_asset(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const hk_web_asset *a = hk_web_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

static enum MHD_Result serve_web(req *r, const hk_web_asset *a, const char *method)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(r, 405, "use GET", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    return send_reply(r, 200, a->content_type, (const char *)a->data, a->len,
                      "Content-Security-Policy", page_csp, "X-Content-Type-Options", "nosniff",
                      "X-Frame-Options", "DENY", "Referrer-Policy", "no-referrer",
                      MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache", NULL);
}

static void api_request(req *r, const char *method, hk_api_request *rq)
{
    *rq = (hk_api_request){
        .method = method,
        .path = r->path,
        .query = r->query,
        .content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE),
        .session = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, HK_SESSION_COOKIE),
        .csrf = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token"),
        .body = r->body,
        .body_len = r->len,
        .ip = r->ip,
    };
}

static enum MHD_Result api_send(req *r, hk_api_reply *out, const char *retry_after)
{
    enum MHD_Result ok = send_reply(
        r, out->status, out->body ? json_ctype : NULL, out->body,
        out->body ? strlen(out->body) : 0, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store",
        "X-Content-Type-Options", "nosniff",
        retry_after ? MHD_HTTP_HEADER_RETRY_AFTER : out->set_cookie[0] ? MHD_HTTP_HEADER_SET_COOKIE : NULL,
        retry_after ? retry_after : out->set_cookie, NULL);
    free(out->body);
    out->body = NULL;
    return ok;
}

/* On a hash thread: the whole API request, then the connection goes on (PH_LOGIN). */
static void api_job(void *arg)
{
    req *r = arg;
    hk_api_request rq;
    api_request(r, r->method, &rq);
    hk_api_handle(r->h->app, &rq, &r->api);
    MHD_resume_connection(r->conn);
}

/* POST /api/login and /api/password hash a password (PBKDF2, tens of milliseconds): they run
 * on the login's hash threads (login.h), never on an HTTP thread, so the triggers these
 * threads answer do not wait behind a password guesser; the connection is suspended
 * meanwhile, as a trigger is around its group commit. A login inside its address's or the
 * account's delay gets 429 before any hashing; a full hash queue 503. */
static enum MHD_Result serve_api(req *r, const char *method)
{
    hk_app *app = r->h->app;
    bool is_login = strcmp(r->path, "/api/login") == 0;
    if (strcmp(method, "POST") == 0 && (is_login || strcmp(r->path, "/api/password") == 0)) {
        int retry = 0;
        const char *which = "";
        if (is_login && !hk_login_admit(app->login, r->ip, hk_now_ms(), &retry, &which)) {
            char ra[16], msg[160];
            snprintf(ra, sizeof ra, "%d", retry);
            snprintf(msg, sizeof msg, "too many wrong passwords %s; try again in %d s",
                     strcmp(which, "address") == 0 ? "from your address" : "for this account",
                     retry);
            return send_error(r, 429, msg, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        r->method = method;
        r->ph = PH_LOGIN;
        conn_busy(r);   /* the request is all in: no body deadline while it hashes */
        /* suspend first: the hash thread may resume the connection before this returns */
        MHD_suspend_connection(r->conn);
        if (hk_login_submit(app->login, api_job, r) != 0) {
            if (is_login)
                hk_login_done(app->login, r->ip, HK_LOGIN_OTHER, hk_now_ms());
            json_t *j = json_pack("{s:[{s:s}]}", "errors", "message",
                                  "too many logins at once; try again in a second");
            r->api.status = 503;
            r->api.body = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            r->api_busy = true;
            MHD_resume_connection(r->conn);
        }
        return MHD_YES;
    }
    hk_api_request rq;
    hk_api_reply out;
    api_request(r, method, &rq);
    hk_api_handle(app, &rq, &out);
    return api_send(r, &out, NULL);
}

static bool prefix(const char *path, const char *p)
{
    size_t n = strlen(p);
    return strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

typedef struct {
    hk_header *h;
    size_t n, cap;
} header_list;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    header_list *l = cls;
    if (l->n == l->cap)
        return MHD_NO;
    l->h[l->n++] = (hk_header){key, key_size, value ? value : "", value ? value_size : 0};
    return MHD_YES;
}

/* Before anything reads the body: a request whose framing hookd and a proxy in front of it
 * could read differently is refused, and its connection closed after the reply, so that
 * whatever follows its headers (a smuggled request) is never parsed. libmicrohttpd 0.9.75
 * alone reads Content-Length with Transfer-Encoding as chunked, takes the first of two
 * Content-Lengths, serves HTTP/1.1 without Host, and waits for the connection's end on a
 * coding it does not know. */
static enum MHD_Result check_framing(req *r, const char *version)
{
    /* the usual few headers on the stack, no allocation */
    hk_header few[32];
    int count = MHD_get_connection_values(r->conn, MHD_HEADER_KIND, NULL, NULL);
    header_list l = {.h = few, .cap = count > 0 ? (size_t)count : 0};
    if (l.cap > sizeof few / sizeof few[0]) {
        l.h = calloc(l.cap, sizeof *l.h);
        if (!l.h)
            return MHD_NO;
    }
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, add_header, &l);
    hk_reject rej;
    int rc = hk_framing_check(l.h, l.n, version, &rej);
    if (l.h != few)
        free(l.h);
    if (rc == 0)
        return MHD_YES;
    r->close = true;
    if (prefix(r->path, "/trigger")) {
        r->rt = R_TRIGGER;
        return trigger_done(r, rej.status, rej.message, NULL, NULL);
    }
    hk_log("http: request from %s -> %d %s", r->ip, rej.status, rej.message);
    return send_error(r, rej.status, rej.message, NULL, NULL);
}

/* hookd reads the raw request target (on_uri) and decodes what it uses itself, with its own
 * errors (hk_pct_decode); libmicrohttpd's unescaping of the path and the query arguments,
 * which nothing here reads, is left out (0.6k instructions of a trigger's) */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)url;
    hk_http *h = cls;
    hk_app *app = h->app;
    req *r = *con_cls;
    if (!r)
        return MHD_NO;   /* out of memory in on_uri */

    if (r->ph == PH_NEW) {
        r->ph = PH_BODY;
        conn_headers(r->hc);
        if (check_framing(r, version) != MHD_YES || r->ph == PH_DONE)
            return r->ph == PH_DONE ? MHD_YES : MHD_NO;
        if (prefix(r->path, "/trigger")) {
            r->rt = R_TRIGGER;
            if (trigger_start(r, method) != MHD_YES)
                return MHD_NO;
            if (r->ph == PH_DONE)
                return MHD_YES;
        } else if (strcmp(r->path, "/ip") == 0) {
            return serve_ip(r, method);
        } else if (strcmp(r->path, "/metrics") == 0) {
            return serve_metrics(r, method);
        } else if (prefix(r->path, "/api")) {
            r->rt = R_API;
            char bucket[INET6_ADDRSTRLEN], ra[16];
            int retry;
            if (strcmp(r->path, "/api/login") == 0 &&
                !hk_limiter_take(app->per_ip, req_bucket(r, bucket), hk_now_ms(), &retry)) {
                snprintf(ra, sizeof ra, "%d", retry);
                return send_error(r, 429, "too many requests from your address; slow down",
                                  MHD_HTTP_HEADER_RETRY_AFTER, ra);
            }
        } else if (web_asset(r->path)) {
            return serve_web(r, web_asset(r->path), method);
        } else {
            return send_error(r, 404, "not found", NULL, NULL);
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > app->cfg.body_max) {
            r->too_large = true;
            if (r->rt == R_TRIGGER)
                return trigger_done(r, 413, "the body is larger than the limit", NULL, NULL);
            return send_error(r, 413, "the body is larger than the limit", NULL, NULL);
        }
        return MHD_YES;
    }

    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->ph != PH_BODY || r->too_large)
            return MHD_YES;
        if (r->len + n > app->cfg.body_max) {
            r->too_large = true;
            free(r->body);
            r->body = NULL;
            r->len = 0;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            /* 256 first, not 1 KB: a button's body is tens of bytes, and glibc serves a
             * request of 1 KB or more from its large bins, merging all the small freed
             * chunks first (malloc_consolidate: 0.5 % of a trigger's CPU time) */
            size_t cap = r->cap ? r->cap : 256;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b)
                return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }

    switch (r->ph) {
    case PH_BODY:
        if (r->too_large) {
            if (r->rt == R_TRIGGER)
                return trigger_done(r, 413, "the body is larger than the limit", NULL, NULL);
            return send_error(r, 413, "the body is larger than the limit", NULL, NULL);
        }
        if (r->rt == R_TRIGGER)
            return trigger_finish(r, method);
        return serve_api(r, method);
    case PH_WAIT:
        return trigger_answer(r);
    case PH_LOGIN:
        return api_send(r, &r->api, r->api_busy ? "1" : NULL);
    default:
        return MHD_YES;
    }
}

/* ---- start and stop ---- */

int hk_http_listen(const char *listen_addr, int *family, char *bound, size_t boundcap,
                   char *err, size_t errcap)
{
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon || colon == listen_addr || !colon[1]) {
        snprintf(err, errcap, "--listen %s: use ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080",
                 listen_addr);
        return -1;
    }
    const char *port = colon + 1;
    size_t hl = (size_t)(colon - listen_addr);
    if (listen_addr[0] == '[' && hl >= 2 && listen_addr[hl - 1] == ']')
        snprintf(host, sizeof host, "%.*s", (int)(hl - 2), listen_addr + 1);
    else
        snprintf(host, sizeof host, "%.*s", (int)hl, listen_addr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0) {
        snprintf(err, errcap, "--listen %s: %s", listen_addr, gai_strerror(g));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errcap, "cannot listen on %s: %s", listen_addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[INET6_ADDRSTRLEN], p[16];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(bound, boundcap, *family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    else
        snprintf(bound, boundcap, "%s", listen_addr);
    return fd;
}

hk_http *hk_http_start(hk_app *app, int listen_fd, int family, char *err, size_t errcap)
{
    hk_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errcap, "out of memory");
        close(listen_fd);
        return NULL;
    }
    h->app = app;
    h->listen_fd = listen_fd;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_cond_init(&h->room, NULL);
    /* the room kept free for new clients: an eighth of the budget */
    unsigned reserve = app->cfg.connections / 8 ? app->cfg.connections / 8 : 1;
    h->high = app->cfg.connections > reserve ? app->cfg.connections - reserve : 0;
    /* poll() by default; epoll with limits.event_loop "epoll". Each trigger is suspended
     * around its group commit, and with epoll MHD takes the connection out of the epoll set
     * on suspend and puts it back on resume (two epoll_ctl calls) and reads once more after;
     * with poll() the loop simply leaves a suspended connection out of its next poll: 20-25 %
     * less CPU per trigger (docs/http-front.md). But MHD's poll() loop accepts one connection
     * per turn, so with the budget full of slow or idle clients being shed and reconnecting,
     * a new client waited behind them (p99 37-108 ms against 6-40 with epoll, 2,000 idle
     * connections; docs/hookd.md, Security): in that mode hookd accepts (acceptor_main). */
    bool own_accept = h->own_accept = app->cfg.http_poll;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     (app->cfg.http_poll ? MHD_USE_POLL : MHD_USE_EPOLL) |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (own_accept ? MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC : 0);
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(
        flags, 0, on_accept, h, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->cfg.http_threads,
        /* When hookd accepts, it keeps the budget itself (acceptor_main): libmicrohttpd
         * splits its limit between its threads, and 0.9.75 deadlocks a thread handed a
         * connection past its share (new_connection_process_ keeps its cleanup mutex on that
         * path), so each thread's share is made the whole budget */
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)app->cfg.connections * (own_accept ? (unsigned)app->cfg.http_threads : 1u),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)app->cfg.connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->cfg.connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY_LIMIT,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        /* last: when hookd accepts, the list ends here (libmicrohttpd refuses the option
         * with MHD_USE_NO_LISTEN_SOCKET) */
        own_accept ? MHD_OPTION_END : MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
        MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errcap, "cannot start the HTTP server on %s", app->cfg.listen);
        goto fail;
    }
    if (pthread_create(&h->guard, NULL, guard_main, h) != 0) {
        snprintf(err, errcap, "cannot start the HTTP server's guard thread");
        MHD_stop_daemon(h->d);   /* closes the listening socket, unless hookd accepts */
        if (!own_accept)
            h->listen_fd = -1;
        goto fail;
    }
    h->guard_started = true;
    if (own_accept) {
        if (pthread_create(&h->acceptor, NULL, acceptor_main, h) != 0) {
            snprintf(err, errcap, "cannot start the HTTP server's accepting thread");
            hk_http_stop(h);
            return NULL;
        }
        h->acceptor_started = true;
        pthread_setname_np(h->acceptor, "hookd-accept");   /* apart in top -H, perf */
    }
    return h;
fail:
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    pthread_cond_destroy(&h->cv);
    pthread_cond_destroy(&h->room);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return NULL;
}

/* No new connections from now on: the listening socket is shut down, so the kernel refuses
 * connects (and resets those waiting in its backlog). Not MHD_quiesce_daemon(): with a thread
 * pool over epoll, libmicrohttpd 0.9.75 takes the listening socket out of each worker's epoll
 * set from this thread while a worker at its connection limit may take it out too, and the
 * loser's EPOLL_CTL_DEL fails with ENOENT, which it treats as fatal ("Failed to remove listen
 * FD from epoll set", abort: seen stopping an instance under load in asan.test_pg_cluster).
 * The cost: the shut-down socket stays readable in the workers' epoll sets and accept() fails
 * with EINVAL (which libmicrohttpd ignores, "can happen during shutdown"), so the workers turn
 * without sleeping until MHD_stop_daemon(), at most the drain (DRAIN_MS) and the store's stop.
 * A connection accepted just before the shutdown is closed by on_accept, never read. The
 * socket itself is closed by MHD_stop_daemon(). */
void hk_http_quiesce(hk_http *h)
{
    atomic_store(&h->quiesced, true);
    if (h->listen_fd >= 0)
        shutdown(h->listen_fd, SHUT_RD);
    pthread_mutex_lock(&h->mu);
    pthread_cond_signal(&h->room);   /* an acceptor waiting for room: it ends */
    pthread_mutex_unlock(&h->mu);
}

bool hk_http_drain(hk_http *h, unsigned timeout_ms)
{
    for (unsigned waited = 0; atomic_load(&h->inflight) > 0 && waited < timeout_ms; waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&h->inflight) == 0;
}

void hk_http_stop(hk_http *h)
{
    hk_http_drain(h, 1000);   /* replies decided by the last commit */
    if (h->guard_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->guard, NULL);
    }
    if (h->acceptor_started) {
        hk_http_quiesce(h);   /* ends acceptor_main, if it has not been called */
        pthread_join(h->acceptor, NULL);
    }
    MHD_stop_daemon(h->d);   /* its connections' CLOSED notifications still take h->mu; it
                              * closes the listening socket, unless hookd accepts */
    if (h->own_accept)
        close(h->listen_fd);
    pthread_cond_destroy(&h->cv);
    pthread_cond_destroy(&h->room);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
