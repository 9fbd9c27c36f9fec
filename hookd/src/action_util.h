/*
 * action_util.h - private helpers shared by the template engine and the action files
 * (template.c, action.c, action_*.c). Nothing outside those files should need it: the rest of
 * hookd talks to actions through hookd.h only.
 *
 * Conventions: functions that can fail return NULL or -1 and write a one-line message into
 * (err, errcap); malloc'd results are freed by the caller.
 */
#ifndef HOOKD_ACTION_UTIL_H
#define HOOKD_ACTION_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hookd.h"

/* Caps on what network input can grow. */
#ifndef HK_TEMPLATE_OUTPUT_MAX
#define HK_TEMPLATE_OUTPUT_MAX (1024 * 1024)   /* one expanded field */
#endif
#ifndef HK_COMMAND_OUTPUT_MAX
#define HK_COMMAND_OUTPUT_MAX 4096             /* stdout+stderr kept from a command */
#endif
#ifndef HK_RESPONSE_KEEP
#define HK_RESPONSE_KEEP 200                   /* bytes of an HTTP reply quoted in the result */
#endif

/* ---- a growable byte buffer with a hard cap (template.c) ---- */
typedef struct {
    char *p;          /* always NUL-terminated once anything was added */
    size_t len, cap;
    size_t max;       /* 0: HK_TEMPLATE_OUTPUT_MAX */
    bool failed;      /* out of memory or over max: further adds are ignored */
} hka_buf;

void hka_buf_add(hka_buf *b, const void *data, size_t n);
void hka_buf_adds(hka_buf *b, const char *s);
void hka_buf_addc(hka_buf *b, char c);
void hka_buf_printf(hka_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (never NULL unless failed; "" when empty), owned by the caller; b is reset. */
char *hka_buf_take(hka_buf *b);
void hka_buf_free(hka_buf *b);

/* Appends s, with every invalid UTF-8 sequence replaced by U+FFFD (template.c). */
void hka_buf_add_utf8(hka_buf *b, const char *s, size_t n);
/* A malloc'd copy of s with invalid UTF-8 replaced by U+FFFD; NULL in gives "". */
char *hka_utf8_clean(const char *s);
/* Appends s as the inside of a JSON string (no quotes). */
void hka_buf_add_json_str(hka_buf *b, const char *s, size_t n);

/* ---- action fields (action.c) ---- */
typedef enum {
    HKA_TEMPLATE,     /* string, checked with hk_template_check */
    HKA_STRING,       /* plain string */
    HKA_BOOL,
    HKA_INT,          /* integer within [min, max] */
    HKA_TEMPLATES,    /* a string, or a non-empty list of strings; all templates */
    HKA_ARGV,         /* a non-empty list of templates */
    HKA_HEADERS       /* an object whose values are templates */
} hka_type;

typedef struct {
    const char *name;
    hka_type type;
    bool required;
    long long min, max;   /* HKA_INT only */
} hka_field;

/* Checks fields against spec (a list ended by a {NULL} entry): an object, every required
 * field present, types and ranges right, templates valid, no unknown field. */
int hka_fields_check(const json_t *fields, const hka_field *spec, const char *action,
                     char *err, size_t errcap);
const char *hka_get_str(const json_t *fields, const char *name, const char *def);
bool hka_get_bool(const json_t *fields, const char *name, bool def);
long long hka_get_int(const json_t *fields, const char *name, long long def);
/* Expands field `name` (or def_tpl when it is absent) for e. NULL with a message naming the
 * field on error. Absent with no default gives "". */
char *hka_expand(const json_t *fields, const char *name, const char *def_tpl,
                 const hk_event *e, hk_escape esc, char *err, size_t errcap);
/* "application/json", "text/json", "application/x+json"...: a body to JSON-escape. */
bool hka_is_json_type(const char *content_type);
/* The escaping that a body template gets: the "escape" field when present, else JSON when the
 * template looks like JSON (starts with [ or with a { that is not "{{"), else none. */
hk_escape hka_body_escape(const json_t *fields, const char *tpl);
int hka_escape_name(const char *s, hk_escape *out);

/* Writes a one-line result: printf, then CR/LF/control characters become spaces. */
void hka_result(char *result, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like hka_result but quotes the text as "..." with \n etc. escaped, appended to result. */
void hka_result_append_quoted(char *result, size_t cap, const char *text, size_t n);

/* The event as one compact JSON object line (no newline): event, value1..3, occurred_at and,
 * for JSON triggers, payload (parsed when it is JSON). Strings are UTF-8-cleaned. */
char *hka_event_json(const hk_event *e);
/* What a command reads on stdin: JsonPayload for a JSON trigger, else
 * {"value1":...,"value2":...,"value3":...} as IFTTT's plain trigger body. */
char *hka_event_stdin(const hk_event *e);
/* The value of a field that went through hk_template_expand, for an unset ingredient. */
const char *hka_or_empty(const char *s);

/* libcurl result (a CURLcode) to RETRY or FAIL (action.c). */
hk_action_status hka_curl_status(int code);
/* The options every libcurl action sets on its handle curl (a CURL *): no signals, the
 * timeout (at most 10 s of it for connecting), errors into errbuf[CURL_ERROR_SIZE], and the
 * fields' TLS settings "ca_file" and "insecure". */
void hka_curl_setup(void *curl, const json_t *fields, long timeout_ms, char *errbuf);

/* Once per process: curl_global_init and mosquitto_lib_init (both not thread-safe). */
void hka_libs_init(void);
/* Closes the homeassistant action's broker connections (action_homeassistant.c). */
void hka_homeassistant_shutdown(void);

/* ---- email, shared by the email and maildir actions (action_email.c) ---- */
/* The RFC 5322 message for fields (from, to, subject, body, html) and e, lines ended by eol
 * ("\r\n" for SMTP, "\n" for a Maildir file). from_def is used when from is absent;
 * the Message-ID comes from key, so a retried delivery keeps it. */
char *hka_mail_build(const json_t *fields, const hk_event *e, const char *key,
                     const char *from_def, const char *eol, char *err, size_t errcap);
/* The bare address of "Name <a@b>" or "a@b" (malloc'd), or NULL if there is none. */
char *hka_mail_addr(const char *s);
/* Splits recipient text "a@b, \"Doe, J\" <j@d>" into items; returns their count, -1 on OOM. */
int hka_mail_split(const char *s, char ***items);
void hka_strv_free(char **v);

#endif
