/*
 * common.h - what the minimal fronts in bench/fronts share: the reply, a listening socket,
 * and a stand-in for hookd's group commit ("defer" mode).
 *
 * Each front answers any request with hookd's success reply for /trigger/x/with/key/k: 200,
 * text/html, "Congratulations! You've fired the x event". In "now" mode it answers from the
 * request callback, which is the front's best case. In "defer" mode the request is handed to
 * a committer thread, as hookd hands each trigger to its store's writer: the committer takes
 * every queued request at once, optionally appends a line per request to a file in one write and fdatasync()s it
 * (FRONT_FSYNC=path), then completes each from its own thread with the front's cross-thread
 * mechanism (MHD resume, an h2o multithread queue, a libevent event). That is the cost hookd
 * pays for "a 200 only after the event is durable", without hookd's own code.
 * FRONT_WINDOW_US=N makes the committer wait N us before each commit (a batching window).
 */
#ifndef FRONTS_COMMON_H
#define FRONTS_COMMON_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLY_BODY "Congratulations! You've fired the x event"
#define REPLY_CTYPE "text/html; charset=utf-8"

static inline void die(const char *what)
{
    perror(what);
    exit(1);
}

/* 127.0.0.1:port, nonblocking, SO_REUSEPORT so that each event-loop thread can have its own */
static inline int listen_on(int port, int reuseport)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0)
        die("bind/listen");
    return fd;
}

/* ---- the stand-in for the group commit ---- */

typedef struct commit_item {
    struct commit_item *next;
    void (*done)(struct commit_item *it);   /* called from the committer thread */
} commit_item;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    commit_item *head, *tail;
    int fd;
    long window_us;
} committer = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, -1, 0};

static inline void commit_submit(commit_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&committer.mu);
    if (committer.tail)
        committer.tail->next = it;
    else
        committer.head = it;
    committer.tail = it;
    pthread_cond_signal(&committer.cv);
    pthread_mutex_unlock(&committer.mu);
}

static void *committer_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&committer.mu);
        while (!committer.head)
            pthread_cond_wait(&committer.cv, &committer.mu);
        if (committer.window_us > 0) {
            /* FRONT_WINDOW_US: let more requests join this commit before it starts */
            pthread_mutex_unlock(&committer.mu);
            struct timespec ts = {0, committer.window_us * 1000L};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&committer.mu);
        }
        commit_item *batch = committer.head;
        committer.head = committer.tail = NULL;
        pthread_mutex_unlock(&committer.mu);
        if (committer.fd >= 0) {
            /* one append per batch, as a database's log write, then one sync */
            static char buf[1 << 16];
            size_t n = 0;
            for (commit_item *it = batch; it && n + 64 < sizeof buf; it = it->next)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "event %p\n", (void *)it);
            if (write(committer.fd, buf, n) != (ssize_t)n)
                die("write");
            if (fdatasync(committer.fd) != 0)
                die("fdatasync");
        }
        while (batch) {
            commit_item *next = batch->next;   /* done() may free the item */
            batch->done(batch);
            batch = next;
        }
    }
    return NULL;
}

static inline void committer_start(void)
{
    const char *path = getenv("FRONT_FSYNC");
    if (path && *path) {
        committer.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (committer.fd < 0)
            die(path);
    }
    const char *w = getenv("FRONT_WINDOW_US");
    committer.window_us = w ? atol(w) : 0;
    pthread_t t;
    if (pthread_create(&t, NULL, committer_main, NULL) != 0)
        die("pthread_create");
    pthread_detach(t);
}

/* usage: NAME PORT THREADS now|defer */
static inline void args(int argc, char **argv, int *port, int *threads, int *defer)
{
    if (argc != 4 || (strcmp(argv[3], "now") != 0 && strcmp(argv[3], "defer") != 0)) {
        fprintf(stderr, "usage: %s PORT THREADS now|defer\n", argv[0]);
        exit(2);
    }
    *port = atoi(argv[1]);
    *threads = atoi(argv[2]);
    *defer = strcmp(argv[3], "defer") == 0;
    if (*defer)
        committer_start();
}

#endif
