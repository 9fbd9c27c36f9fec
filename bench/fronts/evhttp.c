/* evhttp.c - the minimal front on libevent's evhttp: THREADS event bases, each with an
 * evhttp on its own SO_REUSEPORT socket. defer: the committer appends the request to its
 * base's list and activates one event (event_active, thread-safe with evthread_use_pthreads),
 * which answers the list on the base's thread. */
#include "common.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

static int port, defer;

typedef struct base {
    struct event_base *eb;
    struct event *wake;
    pthread_mutex_t mu;
    commit_item *done;   /* committed, to answer on this base's thread */
} base;

typedef struct {
    commit_item it;
    struct evhttp_request *req;
    base *b;
} dreq;

static void respond(struct evhttp_request *req)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_reference(out, REPLY_BODY, sizeof REPLY_BODY - 1, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", REPLY_CTYPE);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void committed(commit_item *it)
{
    dreq *d = (dreq *)it;
    base *b = d->b;
    pthread_mutex_lock(&b->mu);
    int first = b->done == NULL;
    it->next = b->done;
    b->done = it;
    pthread_mutex_unlock(&b->mu);
    if (first)
        event_active(b->wake, EV_READ, 0);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    base *b = arg;
    pthread_mutex_lock(&b->mu);
    commit_item *list = b->done;
    b->done = NULL;
    pthread_mutex_unlock(&b->mu);
    while (list) {
        dreq *d = (dreq *)list;
        list = list->next;
        respond(d->req);
        free(d);
    }
}

static void on_req(struct evhttp_request *req, void *arg)
{
    if (!defer) {
        respond(req);
        return;
    }
    dreq *d = calloc(1, sizeof *d);
    d->it.done = committed;
    d->req = req;
    d->b = arg;
    commit_submit(&d->it);
}

static void *run(void *arg)
{
    (void)arg;
    base *b = calloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    b->eb = event_base_new();
    b->wake = event_new(b->eb, -1, EV_PERSIST, on_wake, b);
    struct evhttp *http = evhttp_new(b->eb);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, on_req, b);
    if (!evhttp_accept_socket_with_handle(http, listen_on(port, 1)))
        die("evhttp_accept_socket");
    event_base_dispatch(b->eb);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads;
    evthread_use_pthreads();
    args(argc, argv, &port, &threads, &defer);
    pthread_t t;
    for (int i = 1; i < threads; i++)
        pthread_create(&t, NULL, run, NULL);
    run(NULL);
}
