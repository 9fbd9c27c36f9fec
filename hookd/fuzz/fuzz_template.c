/* fuzz_template.c - hookd's template engine, and the mail builder, on arbitrary bytes.
 *
 * Input: one byte of mode, then NUL-separated template, EventName, Value1, Value2, Value3,
 * JsonPayload (missing parts are absent ingredients). Besides the sanitizers it checks what
 * the actions rely on:
 *  - hk_template_check() and hk_template_expand() agree on what is an error;
 *  - JSON escaping keeps a JSON body valid whatever the values, and a value inside a string
 *    comes back as itself (invalid UTF-8 as U+FFFD);
 *  - HTML escaping leaves no markup characters, URL escaping only unreserved ones and %XX;
 *  - a mail built from the values has only header lines in its header (no injection) and no
 *    line over RFC 5322's 998 characters;
 *  - a value in a display name never adds an address: outside quoted strings, From holds
 *    exactly the configured <address> and To exactly its two (issue 13).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "action_util.h"
#include "hookd.h"

#define PARTS 6

static void check_expand_agrees(const char *tpl, const hk_event *e, hk_escape esc)
{
    char err1[256], err2[256];
    int rc = hk_template_check(tpl, err1, sizeof err1);
    char *out = hk_template_expand(tpl, e, esc, err2, sizeof err2);
    if (rc != 0 && out)
        __builtin_trap();   /* check refused what expand accepted */
    if (rc == 0 && !out && !strstr(err2, "over"))
        __builtin_trap();   /* expand refused for another reason than the size cap */
    if (rc != 0 && strcmp(err1, err2))
        __builtin_trap();   /* one message for one mistake */
    free(out);
}

static void check_json(const hk_event *e)
{
    static const char tpl[] = "{\"a\":\"{{Value1}}\",\"b\":{{Value2}},\"c\":{{JsonPayload}},"
                              "\"d\":[{{Value3}}, \"x\\\"{{EventName}}\"],\"e\":\"{{OccurredAt}}\"}";
    char err[256];
    char *out = hk_template_expand(tpl, e, HK_ESC_JSON, err, sizeof err);
    if (!out)
        return;   /* over the size cap */
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        __builtin_trap();   /* the values broke the JSON */
    char *want = hka_utf8_clean(e->value1);
    const char *got = json_string_value(json_object_get(j, "a"));
    /* jansson refuses \u0000 without JSON_ALLOW_NUL: values never hold NUL anyway */
    if (!got || !want || strcmp(got, want))
        __builtin_trap();
    free(want);
    json_decref(j);
    free(out);
}

static void check_html_url(const hk_event *e)
{
    char err[256];
    char *h = hk_template_expand("{{Value1}}{{EventName}}{{JsonPayload}}", e, HK_ESC_HTML, err,
                                 sizeof err);
    if (h && strpbrk(h, "<>\"'"))
        __builtin_trap();
    free(h);
    char *u = hk_template_expand("{{Value2}}{{Value3}}", e, HK_ESC_URL, err, sizeof err);
    for (const char *p = u; p && *p; p++) {
        if (*p == '%') {
            if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
                __builtin_trap();
            p += 2;
        } else if (!isalnum((unsigned char)*p) && !strchr("-._~", *p))
            __builtin_trap();
    }
    free(u);
}

/* The addresses of header name in mail m (unfolded), outside quoted strings: each "@" that a
 * reader would take for one, in order, as the text around it up to a space or angle
 * bracket, joined by ","; into out. Encoded words hold no "@" (base64). */
static void addresses_of(const char *m, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    size_t nl = strlen(name), o = 0;
    const char *h = NULL;
    for (const char *line = m; *line && *line != '\n'; line = strchr(line, '\n') + 1) {
        if (!strncmp(line, name, nl)) {
            h = line + nl;
            break;
        }
        if (!strchr(line, '\n'))
            break;
    }
    if (!h)
        return;
    bool quoted = false;
    for (const char *p = h; *p; p++) {
        if (*p == '\n' && p[1] != ' ' && p[1] != '\t')
            break;   /* the header's end: the next line is not a continuation */
        if (quoted && *p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        if (quoted || *p != '@')
            continue;
        const char *a = p, *b = p;
        while (a > h && !strchr(" \t\n<>,\"", a[-1]))
            a--;
        while (b[1] && !strchr(" \t\n<>,\"", b[1]))
            b++;
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%.*s", o ? "," : "",
                              (int)(b - a + 1), a);
        if (o >= cap)
            return;
    }
}

static void check_mail(const hk_event *e)
{
    json_t *f = json_pack("{s:s, s:[s, s], s:s}", "from", "{{Value1}} <hookd@example.test>", "to",
                          "x@example.test", "{{Value2}} <y@example.test>", "subject",
                          "{{Value1}} {{Value3}}");
    char err[256];
    char *m = f ? hka_mail_build(f, e, e->value3, NULL, "\n", err, sizeof err) : NULL;
    json_decref(f);
    if (!m)
        return;   /* Value2 made the recipient list unreadable: refused, fine */
    bool header = true;
    for (char *line = m; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > 998)
            __builtin_trap();
        if (header) {
            if (len == 0)
                header = false;
            else if (line[0] != ' ' && line[0] != '\t') {
                static const char *const names[] = {
                    "Date:", "From:", "To:", "Subject:", "Message-ID:", "MIME-Version:",
                    "Content-Type:", "Content-Transfer-Encoding:", "Auto-Submitted:",
                    "X-Mailer:"};
                bool known = false;
                for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                    known = known || !strncmp(line, names[i], strlen(names[i]));
                if (!known)
                    __builtin_trap();   /* a value made a header of its own */
            }
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
                    __builtin_trap();
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    char addrs[512];
    addresses_of(m, "From:", addrs, sizeof addrs);
    if (strcmp(addrs, "hookd@example.test"))
        __builtin_trap();   /* a value added or changed the sender */
    addresses_of(m, "To:", addrs, sizeof addrs);
    if (strcmp(addrs, "x@example.test,y@example.test"))
        __builtin_trap();   /* a value added a recipient */
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static bool init;
    if (!init) {
        setenv("TZ", "UTC", 1);
        init = true;
    }
    uint8_t mode = data[0];
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = 0;
    char *part[PARTS] = {0};
    size_t n = 0;
    for (char *p = copy; n < PARTS && p <= copy + size - 1; p += strlen(p) + 1)
        part[n++] = p;

    hk_event e = {0};
    e.name = part[1] ? part[1] : "ev";
    e.value1 = part[2];
    e.value2 = part[3];
    e.value3 = part[4];
    e.payload = part[5];
    e.json = part[5] != NULL;
    e.occurred_at = (int64_t)(int32_t)((uint32_t)mode * 2654435761u);
    if (mode & 0x80)
        e.occurred_at *= 1000003;   /* far past and future years too */

    check_expand_agrees(part[0] ? part[0] : "", &e, (hk_escape)(mode % 4));
    check_json(&e);
    check_html_url(&e);
    check_mail(&e);
    char when[64];
    hk_occurred_at(e.occurred_at, when, sizeof when);
    free(copy);
    return 0;
}
