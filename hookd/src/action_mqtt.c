/*
 * action_mqtt.c - the MQTT publish action, through libmosquitto.
 *
 * One connection per attempt, driven by mosquitto_loop() on the worker's own thread (no
 * extra thread per publish): connect without blocking, wait for CONNACK, publish, wait until
 * the message is written (QoS 0) or acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP), disconnect.
 * Every wait ends at the attempt's deadline. A broker that is down, refuses for being
 * unavailable, or does not answer in time is a RETRY; a broker that refuses the credentials or
 * a topic that cannot be published to is a FAIL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "action_util.h"
#include "hookd.h"

static const hka_field mqtt_fields[] = {
    {"host", HKA_STRING, true, 0, 0},
    {"port", HKA_INT, false, 1, 65535},
    {"topic", HKA_TEMPLATE, true, 0, 0},
    {"payload", HKA_TEMPLATE, false, 0, 0},
    {"escape", HKA_STRING, false, 0, 0},
    {"qos", HKA_INT, false, 0, 2},
    {"retain", HKA_BOOL, false, 0, 0},
    {"username", HKA_STRING, false, 0, 0},
    {"password", HKA_STRING, false, 0, 0},
    {"client_id", HKA_STRING, false, 0, 0},
    {"timeout", HKA_INT, false, 1, 600},
    {"tls", HKA_BOOL, false, 0, 0},
    {"ca_file", HKA_STRING, false, 0, 0},
    {"insecure", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

static int mqtt_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, mqtt_fields, "mqtt", err, errcap))
        return -1;
    const char *topic = hka_get_str(fields, "topic", "");
    hka_libs_init();
    if (!*topic || mosquitto_pub_topic_check(topic) != MOSQ_ERR_SUCCESS) {
        snprintf(err, errcap, "mqtt: field \"topic\" must be a topic to publish to (not empty, "
                              "no + or # wildcards)");
        return -1;
    }
    hk_escape esc;
    const char *e = hka_get_str(fields, "escape", NULL);
    if (e && hka_escape_name(e, &esc)) {
        snprintf(err, errcap, "mqtt: field \"escape\" must be none, json, html or url");
        return -1;
    }
    if (hka_get_str(fields, "password", NULL) && !hka_get_str(fields, "username", NULL)) {
        snprintf(err, errcap, "mqtt: field \"username\" is required with \"password\"");
        return -1;
    }
    const char *id = hka_get_str(fields, "client_id", NULL);
    if (id && (!*id || strlen(id) > 23 * 10)) {
        snprintf(err, errcap, "mqtt: field \"client_id\" must be 1 to 230 characters");
        return -1;
    }
    return 0;
}

typedef struct {
    int connack;       /* -1 until CONNACK */
    int mid;           /* of our publish */
    bool published;
    bool disconnected;
} mqtt_state;

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    ((mqtt_state *)ud)->connack = rc;
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    mqtt_state *s = ud;
    if (mid == s->mid)
        s->published = true;
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    (void)rc;
    ((mqtt_state *)ud)->disconnected = true;
}

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static bool got_connack(const mqtt_state *s) { return s->connack >= 0; }
static bool got_published(const mqtt_state *s) { return s->published || s->connack > 0; }

/* Runs the client until done(s). 0, a MOSQ_ERR_* (with errno kept), or -1 at the deadline. */
static int pump(struct mosquitto *m, const mqtt_state *s, bool (*done)(const mqtt_state *),
                const struct timespec *deadline)
{
    while (!done(s)) {
        long left = ms_left(deadline);
        if (left <= 0)
            return -1;
        int rc = mosquitto_loop(m, left < 100 ? (int)left : 100, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            return rc;
        if (s->disconnected && !done(s))
            return MOSQ_ERR_CONN_LOST;
    }
    return 0;
}

static hk_action_status mqtt_run(const json_t *fields, const hk_event *e,
                                 const char *idempotency_key, char *result, size_t cap)
{
    (void)idempotency_key;   /* MQTT 3.1.1 has no header for it; QoS 2 dedups per session */
    char err[512] = "";
    if (mqtt_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    hka_libs_init();
    const char *host = hka_get_str(fields, "host", "");
    bool tls = hka_get_bool(fields, "tls", false);
    int port = (int)hka_get_int(fields, "port", tls ? 8883 : 1883);
    int qos = (int)hka_get_int(fields, "qos", 0);
    bool retain = hka_get_bool(fields, "retain", false);
    hk_action_status st = HK_ACTION_FAIL;
    char *topic = NULL, *payload = NULL;
    struct mosquitto *m = NULL;
    mqtt_state s = {.connack = -1, .mid = -1};

    topic = hka_expand(fields, "topic", NULL, e, HK_ESC_NONE, err, sizeof err);
    if (!topic) {
        hka_result(result, cap, "mqtt: %s", err);
        goto out;
    }
    size_t tlen = strlen(topic);
    if (!tlen || tlen > 65535 || mosquitto_pub_topic_check(topic) != MOSQ_ERR_SUCCESS ||
        mosquitto_validate_utf8(topic, (int)tlen) != MOSQ_ERR_SUCCESS) {
        hka_result(result, cap, "mqtt: failed: the topic \"%.100s\" cannot be published to "
                   "(empty, a + or # from a value, or invalid UTF-8)", topic);
        goto out;
    }
    const char *ptpl = hka_get_str(fields, "payload", NULL);
    if (ptpl)
        payload = hka_expand(fields, "payload", NULL, e, hka_body_escape(fields, ptpl), err,
                             sizeof err);
    else
        payload = hka_event_json(e);
    if (!payload) {
        hka_result(result, cap, "mqtt: %s", err[0] ? err : "out of memory");
        goto out;
    }
    if (strlen(payload) > 256 * 1024 * 1024) {
        hka_result(result, cap, "mqtt: failed: payload too large");
        goto out;
    }

    m = mosquitto_new(hka_get_str(fields, "client_id", NULL), true, &s);
    if (!m) {
        hka_result(result, cap, "mqtt: will retry: cannot create a client: %s", strerror(errno));
        st = HK_ACTION_RETRY;
        goto out;
    }
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    if (hka_get_str(fields, "username", NULL))
        mosquitto_username_pw_set(m, hka_get_str(fields, "username", NULL),
                                  hka_get_str(fields, "password", NULL));
    if (tls) {
        const char *ca = hka_get_str(fields, "ca_file", NULL);
        int rc = mosquitto_tls_set(m, ca, ca ? NULL : "/etc/ssl/certs", NULL, NULL, NULL);
        if (rc == MOSQ_ERR_SUCCESS && hka_get_bool(fields, "insecure", false))
            rc = mosquitto_tls_insecure_set(m, true);
        if (rc != MOSQ_ERR_SUCCESS) {
            hka_result(result, cap, "mqtt: failed: TLS set-up: %s", mosquitto_strerror(rc));
            goto out;
        }
    }

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += hka_get_int(fields, "timeout", 10);

    const char *step = "connect to";
    int rc = mosquitto_connect_async(m, host, port, 60);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = pump(m, &s, got_connack, &deadline);
    if (rc == MOSQ_ERR_SUCCESS && s.connack == 0) {
        step = "publish to";
        rc = mosquitto_publish(m, &s.mid, topic, (int)strlen(payload), payload, qos, retain);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = pump(m, &s, got_published, &deadline);
    }

    char where[300];
    snprintf(where, sizeof where, "%.200s:%d", host, port);
    if (s.connack > 0) {
        /* 3 "server unavailable" may pass; bad version, id, credentials or rights will not */
        st = s.connack == 3 ? HK_ACTION_RETRY : HK_ACTION_FAIL;
        hka_result(result, cap, "mqtt: %s: %s refused the connection: %s",
                   st == HK_ACTION_RETRY ? "will retry" : "failed", where,
                   mosquitto_connack_string(s.connack));
    } else if (rc == -1) {
        st = HK_ACTION_RETRY;
        hka_result(result, cap, "mqtt: will retry: no answer from %s in %lld s (%s)", where,
                   hka_get_int(fields, "timeout", 10), s.connack < 0 ? "connecting" : "publishing");
    } else if (rc != MOSQ_ERR_SUCCESS) {
        st = rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_MALFORMED_UTF8 ||
                     rc == MOSQ_ERR_NOT_SUPPORTED
                 ? HK_ACTION_FAIL
                 : HK_ACTION_RETRY;
        hka_result(result, cap, "mqtt: %s: cannot %s %s: %s",
                   st == HK_ACTION_RETRY ? "will retry" : "failed", step, where,
                   rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    } else {
        st = HK_ACTION_OK;
        hka_result(result, cap, "mqtt: published %zu bytes to \"%.100s\" on %s (qos %d%s)",
                   strlen(payload), topic, where, qos, retain ? ", retained" : "");
    }
    if (s.connack == 0 && !s.disconnected) {
        mosquitto_disconnect(m);
        /* let the DISCONNECT go out; no need to wait for more */
        mosquitto_loop(m, 0, 1);
    }
out:
    if (m)
        mosquitto_destroy(m);
    free(topic);
    free(payload);
    return st;
}

const hk_action hk_action_mqtt = {"mqtt", mqtt_validate, mqtt_run};
