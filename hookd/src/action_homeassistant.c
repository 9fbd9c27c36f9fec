/*
 * action_homeassistant.c - buttons announced to Home Assistant by MQTT discovery, through
 * libmosquitto (docs/actions.md, "homeassistant").
 *
 * Each button id becomes a device with an `event` entity (its event types: the press kinds)
 * and, when a value is named for it, a `sensor` for the battery voltage. Their discovery
 * configs are retained on <discovery_prefix>/<component>/<button id>/<object id>/config; a
 * press is then one {"event_type": KIND} on the event entity's state topic, and the battery
 * value (mV) a retained message on the sensor's.
 *
 * Unlike the mqtt action (one connection per attempt), this one keeps a connection per broker
 * for hookd's lifetime, as ESPHome and Tasmota do: the configs go out once per button id when
 * it is first seen, and again for every button seen so far each time the connection comes
 * back (the session's own thread reconnects), so a broker restarted without its retained
 * messages learns them again without waiting for a press; and for a prefix's buttons when Home
 * Assistant's birth message ("online" on <discovery_prefix>/status) says it started. Workers
 * publish on that connection and wait for each PUBACK (QoS 1) up to the attempt's timeout.
 *
 * Locking: a session's mutex guards its state and is never held across a mosquitto_* call,
 * so libmosquitto's own locks and this one never nest the other way round.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "action_util.h"
#include "hookd.h"

#define HA_SESSIONS_MAX 32      /* brokers (distinct connection settings) per hookd run */
#define HA_BUTTONS_MAX 256      /* button ids per broker: a key holder cannot flood HA */
#define HA_ID_MAX 64            /* a button id's length */
#define HA_TYPES_MAX 16         /* event types */
#define HA_TYPE_LEN 32          /* one event type's length */
#define HA_ACKED 1024           /* PUBACKs remembered for the workers waiting on them */

static const hka_field ha_fields[] = {
    {"host", HKA_STRING, true, 0, 0},
    {"port", HKA_INT, false, 1, 65535},
    {"username", HKA_STRING, false, 0, 0},
    {"password", HKA_STRING, false, 0, 0},
    {"client_id", HKA_STRING, false, 0, 0},
    {"tls", HKA_BOOL, false, 0, 0},
    {"ca_file", HKA_STRING, false, 0, 0},
    {"insecure", HKA_BOOL, false, 0, 0},
    {"timeout", HKA_INT, false, 1, 600},
    {"discovery_prefix", HKA_STRING, false, 0, 0},
    {"state_prefix", HKA_STRING, false, 0, 0},
    {"button_id", HKA_STRING, false, 0, 0},
    {"press", HKA_STRING, false, 0, 0},
    {"battery_mv", HKA_STRING, false, 0, 0},
    {"event_types", HKA_ARGV, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

static const char *const default_types[] = {"single", "double", "long"};

/* ---------------------------------------------------------------- settings */

/* "value1".."value3" -> 1..3, else 0 */
static int value_index(const char *s)
{
    if (s && !strncmp(s, "value", 5) && s[5] >= '1' && s[5] <= '3' && !s[6])
        return s[5] - '0';
    return 0;
}

static bool id_chars(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    return n && n < 200 && p[n - 1] != '/' && p[0] != '/' &&
           mosquitto_pub_topic_check(p) == MOSQ_ERR_SUCCESS &&
           mosquitto_validate_utf8(p, (int)n) == MOSQ_ERR_SUCCESS;
}

static int ha_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, ha_fields, "homeassistant", err, errcap))
        return -1;
    hka_libs_init();
    if (hka_get_str(fields, "password", NULL) && !hka_get_str(fields, "username", NULL)) {
        snprintf(err, errcap, "homeassistant: field \"username\" is required with \"password\"");
        return -1;
    }
    const char *cid = hka_get_str(fields, "client_id", NULL);
    if (cid && (!*cid || strlen(cid) > 230)) {
        snprintf(err, errcap, "homeassistant: field \"client_id\" must be 1 to 230 characters");
        return -1;
    }
    static const char *const prefixes[] = {"discovery_prefix", "state_prefix"};
    for (int i = 0; i < 2; i++) {
        const char *p = hka_get_str(fields, prefixes[i], NULL);
        if (p && !prefix_ok(p)) {
            snprintf(err, errcap, "homeassistant: field \"%s\" must be an MQTT topic to publish "
                     "under (not empty, no + or #, no leading or trailing /)", prefixes[i]);
            return -1;
        }
    }
    const char *bid = hka_get_str(fields, "button_id", "value1");
    const char *press = hka_get_str(fields, "press", NULL);
    const char *batt = hka_get_str(fields, "battery_mv", NULL);
    if (!value_index(bid)) {
        snprintf(err, errcap, "homeassistant: field \"button_id\" must be value1, value2 or "
                              "value3 (the value that carries the button id)");
        return -1;
    }
    if (press && !value_index(press) && strcmp(press, "event_suffix")) {
        snprintf(err, errcap, "homeassistant: field \"press\" must be value1, value2, value3 or "
                              "event_suffix (where the press kind is)");
        return -1;
    }
    if (batt && !value_index(batt)) {
        snprintf(err, errcap, "homeassistant: field \"battery_mv\" must be value1, value2 or "
                              "value3 (the value that carries the battery voltage in mV)");
        return -1;
    }
    if (press && value_index(press) == value_index(bid)) {
        snprintf(err, errcap, "homeassistant: field \"press\" is %s, the value that "
                              "\"button_id\" already uses", press);
        return -1;
    }
    if (batt && (value_index(batt) == value_index(bid) ||
                 (press && value_index(batt) == value_index(press)))) {
        snprintf(err, errcap, "homeassistant: field \"battery_mv\" is %s, a value that "
                              "\"%s\" already uses", batt,
                 value_index(batt) == value_index(bid) ? "button_id" : "press");
        return -1;
    }
    const json_t *types = json_object_get(fields, "event_types");
    if (types && !json_is_null(types)) {
        if (json_array_size(types) > HA_TYPES_MAX) {
            snprintf(err, errcap, "homeassistant: field \"event_types\" has more than %d items",
                     HA_TYPES_MAX);
            return -1;
        }
        for (size_t i = 0; i < json_array_size(types); i++) {
            const char *t = json_string_value(json_array_get(types, i));
            if (!id_chars(t, HA_TYPE_LEN)) {
                snprintf(err, errcap, "homeassistant: field \"event_types\": item %zu \"%.40s\" "
                         "must be 1 to %d letters, digits, _ or -", i + 1, t, HA_TYPE_LEN);
                return -1;
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp(t, json_string_value(json_array_get(types, j)))) {
                    snprintf(err, errcap, "homeassistant: field \"event_types\": \"%s\" is "
                             "listed twice", t);
                    return -1;
                }
        }
    }
    return 0;
}

static size_t types_count(const json_t *fields)
{
    const json_t *t = json_object_get(fields, "event_types");
    return json_is_array(t) ? json_array_size(t) : 3;
}

static const char *type_at(const json_t *fields, size_t i)
{
    const json_t *t = json_object_get(fields, "event_types");
    return json_is_array(t) ? json_string_value(json_array_get(t, i)) : default_types[i];
}

static const char *value_of(const hk_event *e, int i)
{
    const char *v = i == 1 ? e->value1 : i == 2 ? e->value2 : e->value3;
    return v ? v : "";
}

/* ---------------------------------------------------------------- discovery configs */

/* One retained discovery message: its topic and payload. */
typedef struct {
    char *topic, *payload;
} ha_msg;

static void msg_free(ha_msg *m)
{
    free(m->topic);
    free(m->payload);
    m->topic = m->payload = NULL;
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* The event entity's config and, with a battery value configured, the sensor's: 1 or 2 in
 * out[], or -1 out of memory. Field names as Home Assistant's MQTT discovery documents them
 * (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery, event.mqtt, sensor.mqtt). */
static int build_configs(const json_t *fields, const char *id, ha_msg out[2])
{
    const char *dp = hka_get_str(fields, "discovery_prefix", "homeassistant");
    const char *sp = hka_get_str(fields, "state_prefix", "hookd");
    char uid[HA_ID_MAX + 32], eid[HA_ID_MAX + 32], st[512];
    int n = 0;
    memset(out, 0, 2 * sizeof *out);

    json_t *types = json_array();
    for (size_t i = 0; i < types_count(fields); i++)
        json_array_append_new(types, json_string(type_at(fields, i)));
    snprintf(uid, sizeof uid, "hookd_%s", id);
    json_t *device = json_pack("{s:[s],s:s,s:s,s:s}", "identifiers", uid, "name", id,
                               "manufacturer", "buttonhook", "model", "Wi-Fi button");
    json_t *origin = json_pack("{s:s}", "name", "hookd");

    snprintf(uid, sizeof uid, "hookd_%s_press", id);
    snprintf(eid, sizeof eid, "event.%s_press", id);
    snprintf(st, sizeof st, "%s/%s/press", sp, id);
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:O,s:O}", "name", "Press", "unique_id",
                           uid, "default_entity_id", eid, "state_topic", st, "device_class",
                           "button", "event_types", types, "device", device, "origin", origin);
    if (asprintf(&out[n].topic, "%s/event/%s/press/config", dp, id) < 0)
        out[n].topic = NULL;
    out[n].payload = ev ? dump(ev) : NULL;
    n++;
    if (hka_get_str(fields, "battery_mv", NULL)) {
        snprintf(uid, sizeof uid, "hookd_%s_battery", id);
        snprintf(eid, sizeof eid, "sensor.%s_battery", id);
        snprintf(st, sizeof st, "%s/%s/battery", sp, id);
        json_t *se = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:O}", "name", "Battery",
                               "unique_id", uid, "default_entity_id", eid, "state_topic", st,
                               "device_class", "voltage", "unit_of_measurement", "mV",
                               "state_class", "measurement", "entity_category", "diagnostic",
                               "device", device, "origin", origin);
        if (asprintf(&out[n].topic, "%s/sensor/%s/battery/config", dp, id) < 0)
            out[n].topic = NULL;
        out[n].payload = se ? dump(se) : NULL;
        n++;
    }
    json_decref(device);
    json_decref(origin);
    for (int i = 0; i < n; i++)
        if (!out[i].topic || !out[i].payload) {
            for (int k = 0; k < n; k++)
                msg_free(&out[k]);
            return -1;
        }
    return n;
}

/* ---------------------------------------------------------------- sessions */

typedef struct ha_button {
    char *id;                 /* discovery prefix, '/', button id */
    ha_msg cfg[2];
    int ncfg;
    unsigned announced;       /* the session generation its configs went out on; 0: not yet */
    struct ha_button *next;
} ha_button;

typedef struct ha_session {
    char *key;                /* the connection settings, as compact JSON */
    char where[300];          /* host:port, for results */
    struct mosquitto *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool connected;
    unsigned gen;             /* +1 at each CONNACK accepted */
    int refused;              /* the last CONNACK's refusal code, 0 none */
    char why[160];            /* why the last connection attempt or connection failed */
    int acked[HA_ACKED];      /* the last PUBACKs' message ids, a ring */
    unsigned nacked;
    ha_button *buttons;
    int nbuttons;
    char **prefixes;          /* the discovery prefixes in use, whose status is subscribed */
    int nprefixes;
    char *host;
    int port;
    pthread_t thread;         /* session_main: connects, reconnects, runs the client */
    bool started, stopping;
    struct ha_session *next;
} ha_session;

static pthread_mutex_t sessions_mu = PTHREAD_MUTEX_INITIALIZER;
static ha_session *sessions;
static int nsessions;

/* Copies of the configs of every button seen so far under discovery prefix `prefix` (NULL:
 * all), marked announced in this generation; *k of them. With s->mu held, so that a button a
 * worker adds next is announced by that worker only. */
static ha_msg *configs_to_announce(ha_session *s, const char *prefix, size_t *k)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    /* copies: a worker may replace a button's configs once the lock is let go */
    size_t n = 0;
    *k = 0;
    for (ha_button *b = s->buttons; b; b = b->next)
        n += (size_t)b->ncfg;
    ha_msg *again = n ? calloc(n, sizeof *again) : NULL;
    for (ha_button *b = s->buttons; b && again; b = b->next) {
        if (prefix && (strncmp(b->id, prefix, plen) || b->id[plen] != '/'))
            continue;
        for (int i = 0; i < b->ncfg; i++, (*k)++) {
            again[*k].topic = strdup(b->cfg[i].topic);
            again[*k].payload = strdup(b->cfg[i].payload);
        }
        b->announced = s->gen;
    }
    return again;
}

/* Publishes (retained, QoS 1) and frees what configs_to_announce gave, on the session's
 * thread without s->mu held. */
static void announce(ha_session *s, ha_msg *again, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (again[i].topic && again[i].payload)
            mosquitto_publish(s->m, NULL, again[i].topic, (int)strlen(again[i].payload),
                              again[i].payload, 1, true);
        msg_free(&again[i]);
    }
    free(again);
}

/* Home Assistant's birth message: <discovery_prefix>/status "online" when it starts. */
static int subscribe_status(ha_session *s, const char *prefix)
{
    char topic[256];
    snprintf(topic, sizeof topic, "%s/status", prefix);
    return mosquitto_subscribe(s->m, NULL, topic, 1);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    ha_session *s = ud;
    pthread_mutex_lock(&s->mu);
    if (rc != 0) {
        s->refused = rc;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->connected = true;
    s->refused = 0;
    s->gen++;
    s->nacked = 0;
    pthread_cond_broadcast(&s->cv);
    size_t k;
    ha_msg *again = configs_to_announce(s, NULL, &k);
    int np = s->nprefixes;
    char **ps = np ? calloc((size_t)np, sizeof *ps) : NULL;
    for (int i = 0; ps && i < np; i++)
        ps[i] = strdup(s->prefixes[i]);
    pthread_mutex_unlock(&s->mu);
    /* a clean session: the subscriptions are gone, and the broker may have lost the configs */
    for (int i = 0; ps && i < np; i++) {
        if (ps[i])
            subscribe_status(s, ps[i]);
        free(ps[i]);
    }
    free(ps);
    announce(s, again, k);
}

/* Home Assistant (re)started: it asks for the configs again, as its MQTT discovery page
 * describes, in case they were not retained or have been cleared. */
static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    ha_session *s = ud;
    size_t tl = msg->topic ? strlen(msg->topic) : 0;
    if (tl < 8 || strcmp(msg->topic + tl - 7, "/status") || msg->payloadlen != 6 ||
        memcmp(msg->payload, "online", 6))
        return;
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(tl - 7), msg->topic);
    size_t k;
    pthread_mutex_lock(&s->mu);
    ha_msg *again = configs_to_announce(s, prefix, &k);
    pthread_mutex_unlock(&s->mu);
    announce(s, again, k);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    (void)rc;
    ha_session *s = ud;
    pthread_mutex_lock(&s->mu);
    s->connected = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    ha_session *s = ud;
    pthread_mutex_lock(&s->mu);
    s->acked[s->nacked++ % HA_ACKED] = mid;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits up to ms unless the session is being stopped; false once it is. */
static bool session_pause(ha_session *s, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
        ;
    bool go_on = !s->stopping;
    pthread_mutex_unlock(&s->mu);
    return go_on;
}

static void session_why(ha_session *s, int rc)
{
    const char *why = rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
    pthread_mutex_lock(&s->mu);
    snprintf(s->why, sizeof s->why, "%s", why);
    pthread_mutex_unlock(&s->mu);
}

/* The session's own thread: libmosquitto's loop_start does not retry a first connection that
 * failed, so this one connects, runs the client and reconnects (after 1, 2, 4, 8, then every
 * 10 s) for as long as hookd runs. Workers only publish (the client is in threaded mode). */
static void *session_main(void *arg)
{
    ha_session *s = arg;
    bool first = true, up = false;
    long backoff = 1000;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stopping;
        if (s->connected)
            backoff = 1000;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        if (!up) {
            int rc = first ? mosquitto_connect_async(s->m, s->host, s->port, 30)
                           : mosquitto_reconnect_async(s->m);
            first = rc != MOSQ_ERR_SUCCESS && first;
            up = rc == MOSQ_ERR_SUCCESS;
            if (!up) {
                session_why(s, rc);
                if (!session_pause(s, backoff))
                    break;
                backoff = backoff < 5000 ? backoff * 2 : 10000;
            }
            continue;
        }
        int rc = mosquitto_loop(s->m, 500, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            /* lost, refused or never made: on_disconnect has said so to the workers */
            session_why(s, rc);
            up = false;
            pthread_mutex_lock(&s->mu);
            s->connected = false;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            if (!session_pause(s, backoff))
                break;
            backoff = backoff < 5000 ? backoff * 2 : 10000;
        }
    }
    if (up) {
        /* let the DISCONNECT go out; no need to wait for more */
        mosquitto_disconnect(s->m);
        mosquitto_loop(s->m, 100, 1);
    }
    return NULL;
}

static char *session_key(const json_t *fields)
{
    static const char *const names[] = {"host", "port", "username", "password", "client_id",
                                        "tls", "ca_file", "insecure"};
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(fields, names[i]);
        if (v)
            json_object_set(o, names[i], v);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static void session_free(ha_session *s)
{
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->m)
        mosquitto_destroy(s->m);
    for (ha_button *b = s->buttons, *nb; b; b = nb) {
        nb = b->next;
        for (int i = 0; i < b->ncfg; i++)
            msg_free(&b->cfg[i]);
        free(b->id);
        free(b);
    }
    for (int i = 0; i < s->nprefixes; i++)
        free(s->prefixes[i]);
    free(s->prefixes);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->host);
    free(s->key);
    free(s);
}

/* The session for fields' broker, started on first use; NULL with a message (and *st). */
static ha_session *session_get(const json_t *fields, char *result, size_t cap,
                               hk_action_status *st)
{
    char *key = session_key(fields);
    if (!key) {
        hka_result(result, cap, "homeassistant: will retry: out of memory");
        *st = HK_ACTION_RETRY;
        return NULL;
    }
    pthread_mutex_lock(&sessions_mu);
    ha_session *s = sessions;
    while (s && strcmp(s->key, key))
        s = s->next;
    if (s) {
        pthread_mutex_unlock(&sessions_mu);
        free(key);
        return s;
    }
    if (nsessions >= HA_SESSIONS_MAX) {
        pthread_mutex_unlock(&sessions_mu);
        free(key);
        hka_result(result, cap, "homeassistant: failed: already connected to %d brokers (each "
                   "set of connection settings is one; restart hookd after changing them)",
                   HA_SESSIONS_MAX);
        *st = HK_ACTION_FAIL;
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        pthread_mutex_unlock(&sessions_mu);
        free(key);
        hka_result(result, cap, "homeassistant: will retry: out of memory");
        *st = HK_ACTION_RETRY;
        return NULL;
    }
    s->key = key;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;   /* waits end at a monotonic deadline: clock changes do not matter */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    bool tls = hka_get_bool(fields, "tls", false);
    const char *host = hka_get_str(fields, "host", "");
    int port = (int)hka_get_int(fields, "port", tls ? 8883 : 1883);
    snprintf(s->where, sizeof s->where, "%.200s:%d", host, port);
    int rc = MOSQ_ERR_NOMEM;
    s->host = strdup(host);
    s->port = port;
    s->m = s->host ? mosquitto_new(hka_get_str(fields, "client_id", NULL), true, s) : NULL;
    if (s->m) {
        mosquitto_int_option(s->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        mosquitto_connect_callback_set(s->m, on_connect);
        mosquitto_disconnect_callback_set(s->m, on_disconnect);
        mosquitto_publish_callback_set(s->m, on_publish);
        mosquitto_message_callback_set(s->m, on_message);
        rc = mosquitto_threaded_set(s->m, true);   /* workers publish, session_main loops */
        if (hka_get_str(fields, "username", NULL))
            rc = mosquitto_username_pw_set(s->m, hka_get_str(fields, "username", NULL),
                                           hka_get_str(fields, "password", NULL));
        if (rc == MOSQ_ERR_SUCCESS && tls) {
            const char *ca = hka_get_str(fields, "ca_file", NULL);
            rc = mosquitto_tls_set(s->m, ca, ca ? NULL : "/etc/ssl/certs", NULL, NULL, NULL);
            if (rc == MOSQ_ERR_SUCCESS && hka_get_bool(fields, "insecure", false))
                rc = mosquitto_tls_insecure_set(s->m, true);
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            errno = pthread_create(&s->thread, NULL, session_main, s);
            s->started = errno == 0;
            rc = s->started ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ERRNO;
        }
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        pthread_mutex_unlock(&sessions_mu);
        hka_result(result, cap, "homeassistant: failed: cannot set up the client for %s: %s",
                   s->where, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        *st = HK_ACTION_FAIL;
        session_free(s);
        return NULL;
    }
    s->next = sessions;
    sessions = s;
    nsessions++;
    pthread_mutex_unlock(&sessions_mu);
    return s;
}

void hka_homeassistant_shutdown(void)
{
    pthread_mutex_lock(&sessions_mu);
    for (ha_session *s = sessions, *ns; s; s = ns) {
        ns = s->next;
        session_free(s);
    }
    sessions = NULL;
    nsessions = 0;
    pthread_mutex_unlock(&sessions_mu);
}

/* ---------------------------------------------------------------- run */

static bool deadline_passed(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static bool was_acked(const ha_session *s, int mid)
{
    unsigned n = s->nacked < HA_ACKED ? s->nacked : HA_ACKED;
    for (unsigned i = 0; i < n; i++)
        if (s->acked[i] == mid)
            return true;
    return false;
}

/* Puts fields' configs for button id into the session's list: the button, or NULL when the
 * list is full or out of memory (message in result). *need: its configs are to go out. */
static ha_button *button_for(ha_session *s, const json_t *fields, const char *id,
                             ha_msg cfg[2], int ncfg, bool *need, bool *new_prefix,
                             char *result, size_t cap)
{
    char *bkey = NULL;
    if (asprintf(&bkey, "%s/%s", hka_get_str(fields, "discovery_prefix", "homeassistant"),
                 id) < 0) {
        hka_result(result, cap, "homeassistant: will retry: out of memory");
        return NULL;
    }
    ha_button *b = s->buttons;
    while (b && strcmp(b->id, bkey))
        b = b->next;
    if (!b) {
        if (s->nbuttons >= HA_BUTTONS_MAX || !(b = calloc(1, sizeof *b))) {
            free(bkey);
            hka_result(result, cap, "homeassistant: failed: more than %d button ids on %s "
                       "since hookd started; \"%s\" is not announced", HA_BUTTONS_MAX,
                       s->where, id);
            return NULL;
        }
        b->id = bkey;
        bkey = NULL;
        b->next = s->buttons;
        s->buttons = b;
        s->nbuttons++;
    }
    free(bkey);
    /* another applet (or an edited one) for the same button: its configs replace these */
    bool same = b->ncfg == ncfg;
    for (int i = 0; same && i < ncfg; i++)
        same = !strcmp(b->cfg[i].topic, cfg[i].topic) && !strcmp(b->cfg[i].payload,
                                                                 cfg[i].payload);
    if (!same) {
        for (int i = 0; i < b->ncfg; i++)
            msg_free(&b->cfg[i]);
        for (int i = 0; i < ncfg; i++) {
            b->cfg[i] = cfg[i];
            cfg[i].topic = cfg[i].payload = NULL;
        }
        b->ncfg = ncfg;
        b->announced = 0;
    }
    *need = b->announced != s->gen;
    b->announced = s->gen;   /* so that two presses at once announce it once */
    /* a prefix not seen yet: its status is to be subscribed (on_connect does it after) */
    const char *dp = hka_get_str(fields, "discovery_prefix", "homeassistant");
    *new_prefix = true;
    for (int i = 0; *new_prefix && i < s->nprefixes; i++)
        *new_prefix = strcmp(s->prefixes[i], dp) != 0;
    if (*new_prefix) {
        char **np = realloc(s->prefixes, (size_t)(s->nprefixes + 1) * sizeof *np);
        char *p = strdup(dp);
        if (np)
            s->prefixes = np;
        if (np && p)
            s->prefixes[s->nprefixes++] = p;
        else {
            free(p);
            *new_prefix = false;   /* not subscribed: the configs are retained anyway */
        }
    }
    return b;
}

static hk_action_status ha_run(const json_t *fields, const hk_event *e,
                               const char *idempotency_key, char *result, size_t cap)
{
    (void)idempotency_key;
    char err[512] = "";
    if (ha_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    /* the button, the press kind and the battery value, from where the fields say */
    int bi = value_index(hka_get_str(fields, "button_id", "value1"));
    const char *id = value_of(e, bi);
    if (!id_chars(id, HA_ID_MAX)) {
        hka_result(result, cap, "homeassistant: failed: the button id in value%d, ", bi);
        hka_result_append_quoted(result, cap, id, strlen(id));
        size_t o = strlen(result);
        snprintf(result + o, cap - o, ", must be 1 to %d letters, digits, _ or - (Home "
                 "Assistant's node and object ids)", HA_ID_MAX);
        return HK_ACTION_FAIL;
    }
    const char *press = hka_get_str(fields, "press", NULL);
    const char *kind = type_at(fields, 0);
    char from[64] = "";
    if (press && value_index(press)) {
        const char *v = value_of(e, value_index(press));
        if (*v)
            kind = v;
        snprintf(from, sizeof from, "value%d", value_index(press));
    } else if (press) {
        /* "button_pressed_double": the part after the last _ when it is an event type */
        const char *u = strrchr(e->name ? e->name : "", '_');
        for (size_t i = 0; u && i < types_count(fields); i++)
            if (!strcmp(u + 1, type_at(fields, i)))
                kind = type_at(fields, i);
    }
    bool known = false;
    for (size_t i = 0; i < types_count(fields); i++)
        known = known || !strcmp(kind, type_at(fields, i));
    if (!known) {
        char list[HA_TYPES_MAX * (HA_TYPE_LEN + 2)] = "";
        size_t o = 0;
        for (size_t i = 0; i < types_count(fields) && o < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
                                  type_at(fields, i));
        hka_result(result, cap, "homeassistant: failed: the press kind in %s, ", from);
        hka_result_append_quoted(result, cap, kind, strlen(kind));
        o = strlen(result);
        snprintf(result + o, cap - o, ", is not one of the event types (%s) of button %s",
                 list, id);
        return HK_ACTION_FAIL;
    }
    const char *batt_from = hka_get_str(fields, "battery_mv", NULL);
    const char *batt = batt_from ? value_of(e, value_index(batt_from)) : "";
    char note[200] = "";
    if (*batt) {
        size_t n = strspn(batt, "0123456789");
        if (batt[n] || n > 6) {
            hka_result(note, sizeof note, "; battery not sent: %s is not a voltage in mV (a "
                       "whole number up to 999999): ", batt_from);
            hka_result_append_quoted(note, sizeof note, batt, strlen(batt));
            batt = "";
        }
    }

    ha_msg cfg[2];
    int ncfg = build_configs(fields, id, cfg);
    char *ev_topic = NULL, *ev_payload = NULL, *bt_topic = NULL;
    const char *sp = hka_get_str(fields, "state_prefix", "hookd");
    json_t *evo = json_pack("{s:s}", "event_type", kind);
    ev_payload = evo ? dump(evo) : NULL;
    if (asprintf(&ev_topic, "%s/%s/press", sp, id) < 0)
        ev_topic = NULL;
    if (*batt && asprintf(&bt_topic, "%s/%s/battery", sp, id) < 0)
        bt_topic = NULL;
    hk_action_status st = HK_ACTION_RETRY;
    if (ncfg < 0 || !ev_payload || !ev_topic || (*batt && !bt_topic)) {
        hka_result(result, cap, "homeassistant: will retry: out of memory");
        goto out;
    }

    hka_libs_init();
    ha_session *s = session_get(fields, result, cap, &st);
    if (!s)
        goto out;
    long long timeout = hka_get_int(fields, "timeout", 10);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout;

    pthread_mutex_lock(&s->mu);
    while (!s->connected && !s->refused && !deadline_passed(&deadline))
        pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
    if (!s->connected) {
        int refused = s->refused;
        char why[sizeof s->why];
        snprintf(why, sizeof why, "%s", s->why[0] ? s->why : "no answer");
        pthread_mutex_unlock(&s->mu);
        if (refused) {
            /* 3 "server unavailable" may pass; bad version, id, credentials or rights will not */
            st = refused == 3 ? HK_ACTION_RETRY : HK_ACTION_FAIL;
            hka_result(result, cap, "homeassistant: %s: %s refused the connection: %s",
                       st == HK_ACTION_RETRY ? "will retry" : "failed", s->where,
                       mosquitto_connack_string(refused));
        } else
            hka_result(result, cap, "homeassistant: will retry: not connected to %s after "
                       "%lld s (%s)", s->where, timeout, why);
        goto out;
    }
    bool need = false, new_prefix = false;
    ha_button *b = button_for(s, fields, id, cfg, ncfg, &need, &new_prefix, result, cap);
    unsigned gen = s->gen;
    pthread_mutex_unlock(&s->mu);
    if (!b) {
        st = strstr(result, "failed") ? HK_ACTION_FAIL : HK_ACTION_RETRY;
        goto out;
    }

    if (new_prefix)
        subscribe_status(s, hka_get_str(fields, "discovery_prefix", "homeassistant"));
    /* the configs first (when due), then the press, then the battery, all QoS 1 */
    ha_msg cfgcopy[2] = {{0}};
    int mids[4], nm = 0, rc = MOSQ_ERR_SUCCESS;
    if (need) {
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < b->ncfg; i++) {
            cfgcopy[i].topic = strdup(b->cfg[i].topic);
            cfgcopy[i].payload = strdup(b->cfg[i].payload);
        }
        int n = b->ncfg;
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < n && rc == MOSQ_ERR_SUCCESS; i++)
            rc = !cfgcopy[i].topic || !cfgcopy[i].payload
                     ? MOSQ_ERR_NOMEM
                     : mosquitto_publish(s->m, &mids[nm++], cfgcopy[i].topic,
                                         (int)strlen(cfgcopy[i].payload), cfgcopy[i].payload, 1,
                                         true);
        for (int i = 0; i < 2; i++)
            msg_free(&cfgcopy[i]);
    }
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_publish(s->m, &mids[nm++], ev_topic, (int)strlen(ev_payload), ev_payload,
                               1, false);
    if (rc == MOSQ_ERR_SUCCESS && *batt)
        rc = mosquitto_publish(s->m, &mids[nm++], bt_topic, (int)strlen(batt), batt, 1, true);

    pthread_mutex_lock(&s->mu);
    int waiting = 0;
    while (rc == MOSQ_ERR_SUCCESS) {
        waiting = 0;
        for (int i = 0; i < nm; i++)
            waiting += !was_acked(s, mids[i]);
        if (!waiting || s->gen != gen || !s->connected || deadline_passed(&deadline))
            break;
        pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
    }
    bool ok = rc == MOSQ_ERR_SUCCESS && !waiting, lost = s->gen != gen || !s->connected;
    if (!ok && need && b->announced == gen)
        b->announced = 0;   /* the next attempt announces it again */
    pthread_mutex_unlock(&s->mu);

    if (rc != MOSQ_ERR_SUCCESS)
        hka_result(result, cap, "homeassistant: will retry: cannot publish to %s: %s",
                   s->where, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    else if (waiting)
        hka_result(result, cap, "homeassistant: will retry: %s did not acknowledge %d of %d "
                   "messages in %lld s (%s)", s->where, waiting, nm, timeout,
                   lost ? "the connection was lost" : "no answer");
    else {
        st = HK_ACTION_OK;
        hka_result(result, cap, "homeassistant: %s%s pressed %s on %s%s%s%s", id,
                   need ? " announced," : "", kind, s->where, *batt ? ", battery " : "",
                   *batt ? batt : "", *batt ? " mV" : "");
        size_t o = strlen(result);
        snprintf(result + o, cap - o, "%s", note);
    }
out:
    if (ncfg > 0)
        for (int i = 0; i < ncfg; i++)
            msg_free(&cfg[i]);
    free(ev_topic);
    free(ev_payload);
    free(bt_topic);
    return st;
}

const hk_action hk_action_homeassistant = {"homeassistant", ha_validate, ha_run};
