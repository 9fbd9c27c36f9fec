/* app.c - see app.h. */
#define _GNU_SOURCE
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookd.h"
#include "log.h"
#include "secret.h"
#include "trigger.h"

void hk_app_key(hk_app *app, char *out)
{
    pthread_mutex_lock(&app->key_mu);
    memcpy(out, app->key, sizeof app->key);
    pthread_mutex_unlock(&app->key_mu);
}

void hk_app_set_key(hk_app *app, const char *key)
{
    pthread_mutex_lock(&app->key_mu);
    snprintf(app->key, sizeof app->key, "%s", key);
    pthread_mutex_unlock(&app->key_mu);
    hk_log_secret(key);   /* an event named like the key must not show it in the log */
}

int hk_app_rotate_key(hk_app *app, char *out)
{
    char key[HK_KEY_LEN + 1];
    if (hk_key_new(key) != 0 || hk_store_setting_set(app->store, "key", key) != HK_OK)
        return -1;
    hk_app_set_key(app, key);
    snprintf(out, HK_KEY_MAX + 1, "%s", key);
    return 0;
}

void hk_app_reload(hk_app *app)
{
    char *key = NULL;
    if (hk_store_setting_get(app->store, "key", &key) == HK_OK && hk_key_valid(key)) {
        char cur[HK_KEY_MAX + 1], m[16];
        hk_app_key(app, cur);
        if (strcmp(cur, key) != 0) {
            hk_app_set_key(app, key);
            hk_log("the key changed in the store: now %s", hk_mask(key, m, sizeof m));
        }
    }
    free(key);
    hk_auth_reload(app->auth);
}

int hk_key_ensure(hk_store *s, const char *pinned, char *out, bool *created, char *err,
                  size_t errcap)
{
    *created = false;
    if (pinned) {
        if (!hk_key_valid(pinned)) {
            snprintf(err, errcap, "the key in the config must be 16 to 128 characters of "
                                  "A-Z a-z 0-9 _ -");
            return -1;
        }
        char *cur = NULL;
        hk_store_setting_get(s, "key", &cur);
        int rc = cur && strcmp(cur, pinned) == 0 ? HK_OK : hk_store_setting_set(s, "key", pinned);
        free(cur);
        if (rc != HK_OK) {
            snprintf(err, errcap, "cannot store the key");
            return -1;
        }
        snprintf(out, HK_KEY_MAX + 1, "%s", pinned);
        return 0;
    }
    char *key = NULL;
    int rc = hk_store_setting_get(s, "key", &key);
    if (rc == HK_OK && hk_key_valid(key)) {
        snprintf(out, HK_KEY_MAX + 1, "%s", key);
        free(key);
        return 0;
    }
    free(key);
    if (rc != HK_OK && rc != HK_E_NOTFOUND) {
        snprintf(err, errcap, "cannot read the key from the store");
        return -1;
    }
    char fresh[HK_KEY_LEN + 1];
    /* none yet: the first of several instances starting together on one store wins */
    int add = hk_key_new(fresh) != 0 ? HK_E_STORE
              : rc == HK_OK          ? hk_store_setting_set(s, "key", fresh)   /* invalid one */
                                     : hk_store_setting_add(s, "key", fresh);
    if (add == HK_E_CONFLICT) {
        key = NULL;
        if (hk_store_setting_get(s, "key", &key) == HK_OK && hk_key_valid(key)) {
            snprintf(out, HK_KEY_MAX + 1, "%s", key);
            free(key);
            return 0;
        }
        free(key);
    }
    if (add != HK_OK) {
        snprintf(err, errcap, "cannot make and store a key");
        return -1;
    }
    snprintf(out, HK_KEY_MAX + 1, "%s", fresh);
    *created = true;
    return 0;
}

static int text_field(const json_t *obj, const char *name, size_t maxlen, char **out,
                      char *err, size_t cap)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > maxlen ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, cap, "%s: must be a non-empty string of at most %zu bytes", name, maxlen);
        return -1;
    }
    free(*out);
    *out = strdup(json_string_value(v));
    return 0;
}

int hk_applet_from_json(const json_t *obj, const hk_applet *base, hk_applet *out, char *err,
                        size_t cap)
{
    static const char *const names[] = {"id", "name", "event", "action", "fields", "enabled",
                                        NULL};
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj)) {
        snprintf(err, cap, "an applet must be a JSON object");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int known = 0;
        for (const char *const *n = names; *n; n++)
            known |= strcmp(k, *n) == 0;
        if (!known) {
            snprintf(err, cap, "unknown applet setting \"%s\" (known: name, event, action, "
                               "fields, enabled)", k);
            return -1;
        }
    }
    if (base) {
        out->id = base->id;
        out->name = strdup(base->name);
        out->event = strdup(base->event);
        out->action = strdup(base->action);
        out->fields = json_deep_copy(base->fields);
        out->enabled = base->enabled;
    } else {
        out->enabled = true;
        out->fields = json_object();
    }
    if (text_field(obj, "name", 100, &out->name, err, cap) ||
        text_field(obj, "event", HK_EVENT_NAME_MAX, &out->event, err, cap) ||
        text_field(obj, "action", 31, &out->action, err, cap))
        goto bad;
    if (!out->name || !out->event || !out->action) {
        snprintf(err, cap, "an applet needs a name, an event and an action");
        goto bad;
    }
    json_t *f = json_object_get(obj, "fields");
    if (f) {
        if (!json_is_object(f)) {
            snprintf(err, cap, "fields: must be an object");
            goto bad;
        }
        json_decref(out->fields);
        out->fields = json_deep_copy(f);
    }
    json_t *en = json_object_get(obj, "enabled");
    if (en) {
        if (!json_is_boolean(en)) {
            snprintf(err, cap, "enabled: must be true or false");
            goto bad;
        }
        out->enabled = json_is_true(en);
    }
    char msg[400];
    if (hk_event_name_check(out->event, msg, sizeof msg) != 0) {
        snprintf(err, cap, "event: %s", msg);
        goto bad;
    }
    const hk_action *act = hk_action_find(out->action);
    if (!act) {
        snprintf(err, cap, "action: unknown action \"%s\" (known: email, maildir, http, mqtt, "
                           "command, file)", out->action);
        goto bad;
    }
    /* the action checks its fields, templates included (hk_template_check) */
    msg[0] = '\0';
    if (act->validate && act->validate(out->fields, msg, sizeof msg) != 0) {
        snprintf(err, cap, "%s", msg[0] ? msg : "fields: invalid");
        goto bad;
    }
    return 0;
bad:
    hk_applet_clear(out);
    return -1;
}

json_t *hk_applet_to_json(const hk_applet *a)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:O, s:b}", "id", (json_int_t)a->id, "name", a->name,
                     "event", a->event, "action", a->action, "fields", a->fields, "enabled",
                     a->enabled);
}

int hk_applets_seed(hk_store *s, const json_t *applets, char *err, size_t cap)
{
    size_t n = json_array_size(applets);
    hk_applet *list = calloc(n ? n : 1, sizeof *list);
    if (!list) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    int rc = 0;
    char msg[400];
    size_t made = 0;
    for (size_t i = 0; i < n && rc == 0; i++, made++) {
        const json_t *obj = json_array_get(applets, i);
        if (hk_applet_from_json(obj, NULL, &list[i], msg, sizeof msg) != 0) {
            const char *name = json_string_value(json_object_get(obj, "name"));
            snprintf(err, cap, "applets[%zu]%s%s%s: %s", i, name ? " (\"" : "", name ? name : "",
                     name ? "\")" : "", msg);
            rc = -1;
        }
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(list[j].name, list[i].name) == 0) {
                snprintf(err, cap, "applets[%zu]: the name \"%s\" is used twice", i,
                         list[i].name);
                rc = -1;
            }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        hk_applet cur;
        int g = hk_store_applet_get(s, 0, list[i].name, &cur);
        if (g == HK_OK) {
            list[i].id = cur.id;
            hk_applet_clear(&cur);
            g = hk_store_applet_update(s, &list[i]);
        } else if (g == HK_E_NOTFOUND) {
            g = hk_store_applet_insert(s, &list[i]);
        }
        if (g != HK_OK) {
            snprintf(err, cap, "cannot store applet \"%s\"", list[i].name);
            rc = -1;
        }
    }
    hk_applets_free(list, made);
    return rc;
}
