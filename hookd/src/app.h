/*
 * app.h - the running server's parts, shared by the HTTP front (http.c), the API (api.c) and
 * main.c; and the applet helpers used by both the API and the config's seeding.
 */
#ifndef HOOKD_APP_H
#define HOOKD_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "auth.h"
#include "config.h"
#include "login.h"
#include "ratelimit.h"
#include "store.h"
#include "worker.h"

#define HK_KEY_MAX 128

typedef struct hk_app {
    hk_config cfg;
    const char *data_dir;
    hk_store *store;
    hk_workers *workers;
    hk_auth *auth;
    hk_limiter *per_ip, *per_key;
    hk_login *login;              /* password guessing's delays, the hash threads */
    pthread_mutex_t key_mu;
    char key[HK_KEY_MAX + 1];
    atomic_bool closing;          /* SIGTERM: new triggers get 503 */
} hk_app;

/* The current trigger key, copied into out[HK_KEY_MAX + 1]. */
void hk_app_key(hk_app *app, char *out);
void hk_app_set_key(hk_app *app, const char *key);
/* A new random key, stored, then used: 0 (out holds it) or -1. */
int hk_app_rotate_key(hk_app *app, char *out);
/* Reads the key and the password hash again from the store (the CLI may have changed them). */
void hk_app_reload(hk_app *app);

/* Loads the key from the store; makes and stores one when there is none (or stores pinned,
 * when not NULL). 0 with out[HK_KEY_MAX + 1] filled and *created set, or -1 with err. */
int hk_key_ensure(hk_store *s, const char *pinned, char *out, bool *created, char *err,
                  size_t errcap);

/* An applet from its JSON (name, event, action, fields, enabled). Names missing from obj keep
 * base's values (base may be NULL: then name, event and action are required). The result is
 * validated: the event name, and the fields by the action's validate(), which also checks
 * their templates with hk_template_check. 0, or -1 with a message. */
int hk_applet_from_json(const json_t *obj, const hk_applet *base, hk_applet *out, char *err,
                        size_t errcap);
json_t *hk_applet_to_json(const hk_applet *a);
/* Creates or updates (by name) every applet of the config's "applets" array, after checking
 * them all. 0, or -1 with a message naming the applet. */
int hk_applets_seed(hk_store *s, const json_t *applets, char *err, size_t errcap);

#endif
