/* soup.c - the minimal front on libsoup 3 (GLib main loop, one thread: SoupServer has no
 * thread pool). now only. */
#include "common.h"

#include <libsoup/soup.h>

static void on_req(SoupServer *s, SoupServerMessage *msg, const char *path, GHashTable *query,
                   gpointer arg)
{
    (void)s, (void)path, (void)query, (void)arg;
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, REPLY_CTYPE, SOUP_MEMORY_STATIC, REPLY_BODY,
                                     sizeof REPLY_BODY - 1);
}

int main(int argc, char **argv)
{
    int port, threads, defer;
    args(argc, argv, &port, &threads, &defer);
    if (defer) {
        fprintf(stderr, "soup: now only\n");
        return 2;
    }
    SoupServer *server = soup_server_new(NULL, NULL);
    soup_server_add_handler(server, NULL, on_req, NULL, NULL);
    GError *err = NULL;
    GSocket *gs = g_socket_new_from_fd(listen_on(port, 0), &err);
    if (!gs || !soup_server_listen_socket(server, gs, 0, &err)) {
        fprintf(stderr, "soup: %s\n", err->message);
        return 1;
    }
    g_main_loop_run(g_main_loop_new(NULL, FALSE));
}
