/*
 * action_driver.c - runs one hookd action outside the server, for tests/hookd/test_actions.py
 * (and by hand):
 *
 *   action_driver [options] ACTION FIELDS_JSON EVENT_JSON
 *     -j N                 run the action N times at once, on N threads (keys KEY-1..KEY-N)
 *     --key KEY            the idempotency key (default "test-key")
 *     --max-concurrent N   hk_command_max_concurrent
 *     --no-validate        skip validate() (run() must still refuse bad fields)
 *   action_driver --validate ACTION FIELDS_JSON
 *   action_driver --expand none|json|html|url TEMPLATE EVENT_JSON
 *
 * EVENT_JSON: {"name": "...", "value1": "...", "value2": ..., "value3": ...,
 *              "payload": <any JSON: a JSON trigger>, "occurred_at": <unix seconds>}
 * and "<field>_hex": "ff41" for values with bytes JSON cannot carry (invalid UTF-8).
 *
 * Prints one line per run: OK|RETRY|FAIL, a tab, the result. Exit status: 0 all OK, 1 some
 * RETRY, 2 some FAIL, 3 validate() refused (its message on stdout), 64 usage.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hookd.h"

static const char *status_name[] = {"OK", "RETRY", "FAIL"};

typedef struct {
    const hk_action *action;
    const json_t *fields;
    const hk_event *event;
    char key[128];
    hk_action_status st;
    char result[8192];
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->st = j->action->run(j->fields, j->event, j->key, j->result, sizeof j->result);
    return NULL;
}

static char *from_hex(const char *h)
{
    size_t n = strlen(h) / 2;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        s[i] = (char)v;
    }
    s[n] = 0;
    return s;
}

static char *get_value(json_t *o, const char *k)
{
    char hexk[64];
    snprintf(hexk, sizeof hexk, "%s_hex", k);
    const char *h = json_string_value(json_object_get(o, hexk));
    if (h)
        return from_hex(h);
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strdup(s) : NULL;
}

static int parse_event(const char *text, hk_event *e)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!json_is_object(o)) {
        fprintf(stderr, "action_driver: EVENT_JSON: %s\n", o ? "not an object" : je.text);
        json_decref(o);
        return -1;
    }
    memset(e, 0, sizeof *e);
    e->name = get_value(o, "name");
    if (!e->name)
        e->name = strdup("test_event");
    e->value1 = get_value(o, "value1");
    e->value2 = get_value(o, "value2");
    e->value3 = get_value(o, "value3");
    json_t *p = json_object_get(o, "payload");
    if (p) {
        e->json = true;
        e->payload = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    char *pt = get_value(o, "payload_text");   /* a payload that is not JSON */
    if (pt) {
        e->json = true;
        free(e->payload);
        e->payload = pt;
    }
    json_t *t = json_object_get(o, "occurred_at");
    e->occurred_at = json_is_integer(t) ? (int64_t)json_integer_value(t) : 1566603900;
    e->source_ip = strdup("127.0.0.1");
    json_decref(o);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: action_driver [-j N] [--key KEY] [--max-concurrent N] "
                    "[--no-validate] ACTION FIELDS_JSON EVENT_JSON\n"
                    "       action_driver --validate ACTION FIELDS_JSON\n"
                    "       action_driver --expand none|json|html|url TEMPLATE EVENT_JSON\n");
    return 64;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);   /* as hookd does */
    int jobs = 1;
    const char *key = "test-key";
    bool validate = true;
    int i = 1;
    if (argc >= 2 && !strcmp(argv[1], "--expand")) {
        static const char *const names[] = {"none", "json", "html", "url"};
        if (argc != 5)
            return usage();
        int esc = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(argv[2], names[k]))
                esc = k;
        hk_event e;
        if (esc < 0 || parse_event(argv[4], &e))
            return usage();
        char err[512];
        char *out = hk_template_expand(argv[3], &e, (hk_escape)esc, err, sizeof err);
        hk_event_clear(&e);
        if (!out) {
            printf("%s\n", err);
            return 3;
        }
        fputs(out, stdout);
        free(out);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--validate")) {
        if (argc != 4)
            return usage();
        const hk_action *a = hk_action_find(argv[2]);
        json_t *f = json_loads(argv[3], JSON_DECODE_ANY, NULL);
        char err[512] = "";
        int rc = !a ? (snprintf(err, sizeof err, "no action named %s", argv[2]), -1)
                    : a->validate(f, err, sizeof err);
        json_decref(f);
        printf("%s\n", rc ? err : "valid");
        return rc ? 3 : 0;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-j") && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--max-concurrent") && i + 1 < argc)
            hk_command_max_concurrent = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-validate"))
            validate = false;
        else
            return usage();
    }
    if (argc - i != 3 || jobs < 1 || jobs > 256)
        return usage();
    const hk_action *a = hk_action_find(argv[i]);
    if (!a) {
        printf("no action named %s\n", argv[i]);
        return 3;
    }
    json_error_t je;
    json_t *fields = json_loads(argv[i + 1], JSON_DECODE_ANY, &je);
    if (!fields) {
        printf("FIELDS_JSON: %s\n", je.text);
        return 3;
    }
    char err[512] = "";
    if (validate && a->validate(fields, err, sizeof err)) {
        printf("%s\n", err);
        json_decref(fields);
        return 3;
    }
    hk_event e;
    if (parse_event(argv[i + 2], &e)) {
        json_decref(fields);
        return usage();
    }
    job *js = calloc((size_t)jobs, sizeof *js);
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    for (int k = 0; k < jobs; k++) {
        js[k].action = a;
        js[k].fields = fields;
        js[k].event = &e;
        if (jobs == 1)
            snprintf(js[k].key, sizeof js[k].key, "%s", key);
        else
            snprintf(js[k].key, sizeof js[k].key, "%s-%d", key, k + 1);
    }
    if (jobs == 1)
        run_job(&js[0]);
    else {
        for (int k = 0; k < jobs; k++)
            pthread_create(&th[k], NULL, run_job, &js[k]);
        for (int k = 0; k < jobs; k++)
            pthread_join(th[k], NULL);
    }
    int rc = 0;
    for (int k = 0; k < jobs; k++) {
        printf("%s\t%s\n", status_name[js[k].st], js[k].result);
        if (js[k].st == HK_ACTION_FAIL)
            rc = 2;
        else if (js[k].st == HK_ACTION_RETRY && rc == 0)
            rc = 1;
    }
    free(js);
    free(th);
    hk_actions_shutdown();
    hk_event_clear(&e);
    json_decref(fields);
    return rc;
}
