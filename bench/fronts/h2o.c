/* h2o.c - the minimal front on libh2o-evloop: THREADS event loops, each with its own
 * SO_REUSEPORT listening socket. defer: the committer completes each request through the
 * loop's h2o_multithread queue (an eventfd/pipe wake-up per batch, not per request). */
#include "common.h"

#define H2O_USE_LIBUV 0
#include <h2o.h>

static h2o_globalconf_t config;
static int port, defer;

typedef struct {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
} loop;

typedef struct {
    commit_item it;
    h2o_multithread_message_t msg;
    h2o_req_t *req;
    loop *l;
} dreq;

static __thread loop *this_loop;

static void respond(h2o_req_t *req)
{
    static h2o_generator_t gen = {NULL, NULL};
    static h2o_iovec_t body = {REPLY_BODY, sizeof REPLY_BODY - 1};
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT(REPLY_CTYPE));
    req->res.content_length = body.len;
    h2o_start_response(req, &gen);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void committed(commit_item *it)
{
    dreq *d = (dreq *)it;
    h2o_multithread_send_message(&d->l->receiver, &d->msg);
}

/* on the loop's thread: every request committed since the last wake-up */
static void on_messages(h2o_multithread_receiver_t *rcv, h2o_linklist_t *messages)
{
    (void)rcv;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        dreq *d = H2O_STRUCT_FROM_MEMBER(dreq, msg, m);
        respond(d->req);
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (!defer) {
        respond(req);
        return 0;
    }
    /* allocated from the request's pool: freed with the request */
    dreq *d = h2o_mem_alloc_pool(&req->pool, sizeof *d);
    memset(d, 0, sizeof *d);
    d->it.done = committed;
    d->req = req;
    d->l = this_loop;
    commit_submit(&d->it);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&((loop *)listener->data)->accept, sock);
}

static void *run(void *arg)
{
    (void)arg;
    loop *l = calloc(1, sizeof *l);
    this_loop = l;
    h2o_context_init(&l->ctx, h2o_evloop_create(), &config);
    l->accept.ctx = &l->ctx;
    l->accept.hosts = config.hosts;
    l->queue = h2o_multithread_create_queue(l->ctx.loop);
    h2o_multithread_register_receiver(l->queue, &l->receiver, on_messages);
    h2o_socket_t *ls =
        h2o_evloop_socket_create(l->ctx.loop, listen_on(port, 1), H2O_SOCKET_FLAG_DONT_READ);
    ls->data = l;
    h2o_socket_read_start(ls, on_accept);
    for (;;)
        h2o_evloop_run(l->ctx.loop, INT32_MAX);   /* non-zero on EINTR (strace attaching) */
    return NULL;
}

int main(int argc, char **argv)
{
    int threads;
    args(argc, argv, &port, &threads, &defer);
    h2o_config_init(&config);
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_req;
    pthread_t t;
    for (int i = 1; i < threads; i++)
        pthread_create(&t, NULL, run, NULL);
    run(NULL);
}
