/* mhd.c - the minimal front on libmicrohttpd (hookd's front). Built twice:
 *   mhd-epoll    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, a pool of THREADS loops
 *                (hookd's mode); defer: suspend the connection, resume it from the committer
 *   mhd-poll     the same with MHD_USE_POLL: no epoll_ctl on suspend/resume, but a poll()
 *                over all of the thread's connections on each turn
 *   mhd-threads  MHD_USE_THREAD_PER_CONNECTION (poll); defer: the connection's own thread
 *                waits on a condition variable for the committer, no suspend/resume */
#include "common.h"

#include <microhttpd.h>

static struct MHD_Response *reply;
static int defer;

typedef struct {
    commit_item it;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;   /* 0 body, 1 waiting, 2 committed */
} req;

#ifdef PER_CONNECTION
static void committed(commit_item *it)
{
    req *r = (req *)it;
    pthread_mutex_lock(&r->mu);
    r->state = 2;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}
#else
static void committed(commit_item *it)
{
    req *r = (req *)it;
    r->state = 2;
    MHD_resume_connection(r->conn);
}
#endif

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        r->conn = c;
        r->it.done = committed;
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->cv, NULL);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;   /* the body: read and dropped */
        return MHD_YES;
    }
    if (defer && r->state == 0) {
        r->state = 1;
#ifdef PER_CONNECTION
        commit_submit(&r->it);
        pthread_mutex_lock(&r->mu);
        while (r->state != 2)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
#else
        MHD_suspend_connection(c);
        commit_submit(&r->it);
        return MHD_YES;
#endif
    }
    return MHD_queue_response(c, MHD_HTTP_OK, reply);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    req *r = *con_cls;
    if (r) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
    }
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    int port, threads;
    args(argc, argv, &port, &threads, &defer);
    reply = MHD_create_response_from_buffer(strlen(REPLY_BODY), (void *)REPLY_BODY,
                                            MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, REPLY_CTYPE);
    int fd = listen_on(port, 0);
#ifdef PER_CONNECTION
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    (void)threads;
#else
#ifdef USE_POLL
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;
#else
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
#endif
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
#endif
    if (!d)
        die("MHD_start_daemon");
    for (;;)
        pause();
}
