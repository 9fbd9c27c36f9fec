/* evhtp.c - the minimal front on libevhtp (libevent underneath, its own parser and a
 * thread pool of THREADS event bases sharing one listening socket). now only. */
#include "common.h"

#include <evhtp.h>

static void on_req(evhtp_request_t *req, void *arg)
{
    (void)arg;
    evhtp_headers_add_header(req->headers_out,
                             evhtp_header_new("Content-Type", REPLY_CTYPE, 0, 0));
    evbuffer_add_reference(req->buffer_out, REPLY_BODY, sizeof REPLY_BODY - 1, NULL, NULL);
    evhtp_send_reply(req, EVHTP_RES_OK);
}

int main(int argc, char **argv)
{
    int port, threads, defer;
    args(argc, argv, &port, &threads, &defer);
    if (defer) {
        fprintf(stderr, "evhtp: now only\n");
        return 2;
    }
    struct event_base *eb = event_base_new();
    evhtp_t *htp = evhtp_new(eb, NULL);
    evhtp_set_gencb(htp, on_req, NULL);
    evhtp_use_threads_wexit(htp, NULL, NULL, threads, NULL);
    if (evhtp_bind_socket(htp, "ipv4:127.0.0.1", (uint16_t)port, 1024) != 0)
        die("evhtp_bind_socket");
    event_base_loop(eb, 0);
}
