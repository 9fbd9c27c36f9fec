/*
 * http.h - hookd's HTTP front on libmicrohttpd: a small pool of event-loop threads (epoll, or
 * poll() with limits.event_loop; docs/http-front.md and docs/hookd.md say when each).
 * Trigger requests never block a thread: once parsed, the connection is suspended, the event
 * goes to the store's group commit, and the commit resumes the connection to answer.
 * Before a request's body is read its framing is checked (framing.h); a guard thread gives
 * each request's headers and body a deadline and sheds the connections that waited longest
 * for a request when the connection budget runs short (docs/hookd.md, Security).
 *
 *   /trigger/...   triggers (trigger.c)        /ip        the caller's address
 *   /api/...       the JSON API (api.c)        /metrics   Prometheus text
 */
#ifndef HOOKD_HTTP_H
#define HOOKD_HTTP_H

#include <stdbool.h>

#include "app.h"

typedef struct hk_http hk_http;

/* Binds and listens on "ADDR:PORT" or "[V6]:PORT": the socket and its family, and the address
 * actually bound (useful with port 0) in bound; or -1 with err. */
int hk_http_listen(const char *addr, int *family, char *bound, size_t boundcap, char *err,
                   size_t errcap);
/* Serves on a socket from hk_http_listen (h owns it from now on): NULL with err on failure. */
hk_http *hk_http_start(hk_app *app, int listen_fd, int family, char *err, size_t errcap);
/* Stops accepting connections (SIGTERM's first step); requests in progress continue. */
void hk_http_quiesce(hk_http *h);
/* Waits up to timeout_ms for the requests in progress to be answered: true if all were. */
bool hk_http_drain(hk_http *h, unsigned timeout_ms);
/* Closes every connection and frees h. Call after the store's writer has stopped, so no
 * connection is left suspended. */
void hk_http_stop(hk_http *h);

#endif
