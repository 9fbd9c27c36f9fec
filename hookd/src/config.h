/*
 * config.h - hookd's settings: defaults, overridden by the --config file (JSON), overridden
 * by the command line. The file's format is in docs/hookd.md; unknown names are errors, so a
 * typo never silently falls back to a default.
 */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "login.h"

typedef struct {
    double rate;                  /* tokens per second; 0 = no limit */
    double burst;                 /* bucket size */
} hk_rate;

typedef struct {
    char *listen;                 /* "ADDR:PORT" or "[v6]:PORT" */
    char *key;                    /* pins the trigger key, or NULL */
    char *admin_password;         /* pins the admin password, or NULL */
    /* limits */
    size_t body_max;              /* bytes; larger bodies get 413 */
    hk_rate per_ip, per_key;      /* 429 beyond these */
    unsigned connections;         /* open connections at most */
    unsigned connections_per_ip;
    unsigned connection_timeout_s;/* idle connections are closed after this */
    unsigned header_timeout_s;    /* a request's headers, from the connection's opening or its
                                   * previous reply: trickling bytes does not extend it */
    unsigned body_timeout_s;      /* its body, from its headers */
    bool http_poll;               /* limits.event_loop "poll" (the default) or "epoll" (http.c) */
    unsigned http_threads;          /* default: hk_cores_available() */
    hk_login_cfg login;           /* password guessing: delays, hash threads (login.h) */
    /* deliveries */
    unsigned workers;
    unsigned max_attempts;        /* attempts per round before "failed" */
    int64_t backoff_initial_ms, backoff_max_ms;
    unsigned shutdown_timeout_s;  /* SIGTERM waits this long for running deliveries */
    int command_max_concurrent;
    unsigned lease_s;             /* a claimed delivery's lease: renewed while it runs; another
                                   * worker (instance) may take it over once it runs out */
    unsigned retention_days;      /* 0 = keep events forever */
    json_t *applets;              /* the file's "applets" array (owned), or NULL */
} hk_config;

void hk_config_defaults(hk_config *c);
/* Reads a config file over the defaults: 0, or -1 with a message naming the place. */
int hk_config_load(hk_config *c, const char *path, char *err, size_t errcap);
void hk_config_free(hk_config *c);
/* Replaces a string setting (a copy of value). */
void hk_config_set(char **field, const char *value);

/* the CPUs this process may run on (its affinity), 1 to 256 */
unsigned hk_cores_available(void);

#endif
