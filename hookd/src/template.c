/*
 * template.c - the ingredient templates of applet fields: {{EventName}} {{Value1}} {{Value2}}
 * {{Value3}} {{OccurredAt}} {{JsonPayload}}, expanded with an escaping that fits where the
 * text goes (docs/actions.md has the rules and why).
 *
 * Syntax: "{{" + a name + "}}" on one line, at most HK_NAME_SPAN bytes between the braces,
 * spaces around the name allowed. A "{{" with no such closing is plain text, so JSON and
 * code in templates need no escaping; in a run of braces ("{{{Value1}}}") the placeholder is
 * the innermost pair. A well-formed placeholder with an unknown name is an error, so a typo
 * is reported when the applet is saved instead of mailing "{{Vaule1}}" forever.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "action_util.h"
#include "hookd.h"

#define HK_NAME_SPAN 64

/* ---------------------------------------------------------------- buffer */

static bool buf_grow(hka_buf *b, size_t n)
{
    size_t max = b->max ? b->max : HK_TEMPLATE_OUTPUT_MAX;
    if (b->failed)
        return false;
    if (n > max || b->len > max - n) {
        b->failed = true;
        return false;
    }
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void hka_buf_add(hka_buf *b, const void *data, size_t n)
{
    if (!buf_grow(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void hka_buf_adds(hka_buf *b, const char *s) { hka_buf_add(b, s, strlen(s)); }
void hka_buf_addc(hka_buf *b, char c) { hka_buf_add(b, &c, 1); }

void hka_buf_printf(hka_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *hka_buf_take(hka_buf *b)
{
    if (b->failed) {
        hka_buf_free(b);
        return NULL;
    }
    char *p = b->p ? b->p : strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void hka_buf_free(hka_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Each byte that does not start a valid sequence becomes U+FFFD. */
void hka_buf_add_utf8(hka_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = 0;
    while (i < n) {
        size_t l = utf8_len(u + i, n - i);
        if (l) {
            i += l;
            continue;
        }
        hka_buf_add(b, s + start, i - start);
        hka_buf_add(b, "\xEF\xBF\xBD", 3);
        i++;
        start = i;
    }
    hka_buf_add(b, s + start, i - start);
}

char *hka_utf8_clean(const char *s)
{
    hka_buf b = {0};
    if (s)
        hka_buf_add_utf8(&b, s, strlen(s));
    return hka_buf_take(&b);
}

void hka_buf_add_json_str(hka_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = 0;
    while (i < n) {
        unsigned char c = u[i];
        const char *rep = NULL;
        char hex[8];
        if (c == '"')
            rep = "\\\"";
        else if (c == '\\')
            rep = "\\\\";
        else if (c == '\n')
            rep = "\\n";
        else if (c == '\r')
            rep = "\\r";
        else if (c == '\t')
            rep = "\\t";
        else if (c == '\b')
            rep = "\\b";
        else if (c == '\f')
            rep = "\\f";
        else if (c < 0x20) {
            snprintf(hex, sizeof hex, "\\u%04x", c);
            rep = hex;
        } else if (c >= 0x80) {
            size_t l = utf8_len(u + i, n - i);
            if (l) {
                i += l;
                continue;
            }
            rep = "\xEF\xBF\xBD";
        } else {
            i++;
            continue;
        }
        hka_buf_add(b, s + start, i - start);
        hka_buf_adds(b, rep);
        i++;
        start = i;
    }
    hka_buf_add(b, s + start, i - start);
}

static void add_html(hka_buf *b, const char *s)
{
    hka_buf clean = {0};
    hka_buf_add_utf8(&clean, s, strlen(s));
    if (clean.failed) {
        b->failed = true;
        hka_buf_free(&clean);
        return;
    }
    for (size_t i = 0; i < clean.len; i++) {
        switch (clean.p[i]) {
        case '&': hka_buf_adds(b, "&amp;"); break;
        case '<': hka_buf_adds(b, "&lt;"); break;
        case '>': hka_buf_adds(b, "&gt;"); break;
        case '"': hka_buf_adds(b, "&quot;"); break;
        case '\'': hka_buf_adds(b, "&#39;"); break;
        default: hka_buf_addc(b, clean.p[i]);
        }
    }
    hka_buf_free(&clean);
}

/* RFC 3986 unreserved characters stay, every other byte is %XX. */
static void add_url(hka_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (isalnum(*u) || *u == '-' || *u == '.' || *u == '_' || *u == '~')
            hka_buf_addc(b, (char)*u);
        else {
            char enc[3] = {'%', hex[*u >> 4], hex[*u & 15]};
            hka_buf_add(b, enc, 3);
        }
    }
}

/* Strict JSON number, true, false or null: such a value may stand outside quotes. Numbers
 * must also be ones jansson reads (no 1e999, no integer past 64 bits): a receiver may well
 * use the same kind of parser. */
static bool is_json_scalar(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null"))
        return true;
    if (strlen(s) > 64)
        return false;
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return false;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return false;
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    json_decref(j);
    return j != NULL;
}

/* ---------------------------------------------------------------- OccurredAt */

static void tz_init(void) { tzset(); }

void hk_occurred_at(int64_t t, char *out, size_t cap)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, tz_init);
    if (!cap)
        return;
    out[0] = 0;
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt != t || !localtime_r(&tt, &tm) || tm.tm_mon < 0 || tm.tm_mon > 11)
        return;
    int h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
    snprintf(out, cap, "%s %d, %lld at %02d:%02d%s", months[tm.tm_mon], tm.tm_mday,
             (long long)tm.tm_year + 1900, h12, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
}

/* ---------------------------------------------------------------- the engine */

typedef enum { ING_EVENT, ING_V1, ING_V2, ING_V3, ING_OCCURRED, ING_PAYLOAD, ING_COUNT } ing_id;

static const char *const ing_names[ING_COUNT] = {"EventName", "Value1",     "Value2",
                                                 "Value3",    "OccurredAt", "JsonPayload"};

/* At tpl + i (which starts with "{{"): if a placeholder follows, sets its name span and end
 * (one past "}}") and returns true. */
static bool placeholder_at(const char *tpl, size_t i, size_t *name, size_t *name_len,
                           size_t *end)
{
    size_t j = i + 2;
    while (j < i + 2 + HK_NAME_SPAN && tpl[j] && tpl[j] != '\n') {
        if (tpl[j] == '{' && tpl[j + 1] == '{')
            return false;
        if (tpl[j] == '}' && tpl[j + 1] == '}') {
            size_t a = i + 2, z = j;
            while (a < z && (tpl[a] == ' ' || tpl[a] == '\t'))
                a++;
            while (z > a && (tpl[z - 1] == ' ' || tpl[z - 1] == '\t'))
                z--;
            *name = a;
            *name_len = z - a;
            *end = j + 2;
            return true;
        }
        j++;
    }
    return false;
}

static int lookup(const char *name, size_t len)
{
    for (int k = 0; k < ING_COUNT; k++)
        if (strlen(ing_names[k]) == len && !memcmp(ing_names[k], name, len))
            return k;
    return -1;
}

/* Levenshtein distance, capped by the short names it is used for. */
static size_t edit_distance(const char *a, size_t al, const char *b, size_t bl)
{
    size_t row[HK_NAME_SPAN + 1];
    if (bl > HK_NAME_SPAN)
        return (size_t)-1;
    for (size_t j = 0; j <= bl; j++)
        row[j] = j;
    for (size_t i = 1; i <= al; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bl; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[bl];
}

static void unknown(const char *tpl, size_t at, size_t name, size_t len, size_t end, char *err,
                    size_t errcap)
{
    char shown[HK_NAME_SPAN * 4 + 8];
    size_t o = 0;
    for (size_t k = at; k < end && o + 5 < sizeof shown; k++) {
        unsigned char c = (unsigned char)tpl[k];
        if (c >= 0x20 && c < 0x7f)
            shown[o++] = (char)c;
        else
            o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
    }
    shown[o] = 0;
    /* a hint for near misses: compare letters and digits only, case-insensitively, and
     * accept up to two edits ("value 1", "occurred_at", "Vaule1", "EventNam") */
    const char *hint = NULL;
    char want[HK_NAME_SPAN + 1];
    size_t wl = 0;
    for (size_t k = 0; k < len && wl < HK_NAME_SPAN; k++)
        if (isalnum((unsigned char)tpl[name + k]))
            want[wl++] = (char)tolower((unsigned char)tpl[name + k]);
    size_t best = 3;
    for (int k = 0; k < ING_COUNT && wl; k++) {
        char known[16];
        size_t kl = strlen(ing_names[k]);
        for (size_t c = 0; c < kl; c++)
            known[c] = (char)tolower((unsigned char)ing_names[k][c]);
        size_t d = edit_distance(want, wl, known, kl);
        if (d < best) {
            best = d;
            hint = ing_names[k];
        }
    }
    if (hint)
        snprintf(err, errcap, "unknown ingredient %s at offset %zu (did you mean {{%s}}?)",
                 shown, at, hint);
    else
        snprintf(err, errcap,
                 "unknown ingredient %s at offset %zu (known: {{EventName}} {{Value1}} "
                 "{{Value2}} {{Value3}} {{OccurredAt}} {{JsonPayload}})",
                 shown, at);
}

static void add_value(hka_buf *b, int ing, const hk_event *e, hk_escape esc, bool in_string)
{
    char when[64];
    const char *v = NULL;
    switch (ing) {
    case ING_EVENT: v = e->name; break;
    case ING_V1: v = e->value1; break;
    case ING_V2: v = e->value2; break;
    case ING_V3: v = e->value3; break;
    case ING_OCCURRED:
        hk_occurred_at(e->occurred_at, when, sizeof when);
        v = when;
        break;
    case ING_PAYLOAD: v = e->payload; break;
    }
    switch (esc) {
    case HK_ESC_NONE:
        if (v)
            hka_buf_adds(b, v);
        break;
    case HK_ESC_HTML:
        if (v)
            add_html(b, v);
        break;
    case HK_ESC_URL:
        if (v)
            add_url(b, v);
        break;
    case HK_ESC_JSON:
        if (in_string) {
            if (v)
                hka_buf_add_json_str(b, v, strlen(v));
        } else if (ing == ING_PAYLOAD) {
            /* the payload is JSON already: insert it as a value, unless it is not JSON */
            json_t *j = v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
            if (!v)
                hka_buf_adds(b, "null");
            else if (j)
                hka_buf_adds(b, v);
            else {
                hka_buf_addc(b, '"');
                hka_buf_add_json_str(b, v, strlen(v));
                hka_buf_addc(b, '"');
            }
            json_decref(j);
        } else if (v && is_json_scalar(v))
            hka_buf_adds(b, v);
        else {
            hka_buf_addc(b, '"');
            if (v)
                hka_buf_add_json_str(b, v, strlen(v));
            hka_buf_addc(b, '"');
        }
        break;
    }
}

/* Expands, or only checks when e is NULL. */
static char *run(const char *tpl, const hk_event *e, hk_escape esc, char *err, size_t errcap)
{
    if (errcap)
        err[0] = 0;
    if (!tpl) {
        snprintf(err, errcap, "no template");
        return NULL;
    }
    if ((int)esc < (int)HK_ESC_NONE || (int)esc > (int)HK_ESC_URL) {
        snprintf(err, errcap, "unknown escaping %d", (int)esc);
        return NULL;
    }
    hka_buf b = {0};
    bool in_string = false;   /* JSON escaping: inside a "..." of the template text */
    size_t i = 0, lit = 0;    /* literal text from lit to i is pending */
    while (tpl[i]) {
        if (tpl[i] == '{' && tpl[i + 1] == '{' && tpl[i + 2] != '{') {
            size_t name, len, end;
            if (placeholder_at(tpl, i, &name, &len, &end)) {
                int ing = lookup(tpl + name, len);
                if (ing < 0) {
                    unknown(tpl, i, name, len, end, err, errcap);
                    hka_buf_free(&b);
                    return NULL;
                }
                if (e) {
                    hka_buf_add(&b, tpl + lit, i - lit);
                    add_value(&b, ing, e, esc, in_string);
                }
                i = lit = end;
                continue;
            }
            i += 2;   /* "{{" that opens nothing: text */
            continue;
        }
        if (esc == HK_ESC_JSON) {
            /* skip the escaped character (an escaped quote does not end the string), but
             * never a "{": placeholders are found the same way in every escaping */
            if (in_string && tpl[i] == '\\' && tpl[i + 1] && tpl[i + 1] != '{') {
                i += 2;
                continue;
            }
            if (tpl[i] == '"')
                in_string = !in_string;
        }
        i++;
    }
    if (!e) {
        hka_buf_free(&b);
        return strdup("");
    }
    hka_buf_add(&b, tpl + lit, i - lit);
    char *out = hka_buf_take(&b);
    if (!out)
        snprintf(err, errcap, "expanded text is over %d bytes (or out of memory)",
                 HK_TEMPLATE_OUTPUT_MAX);
    return out;
}

char *hk_template_expand(const char *tpl, const hk_event *e, hk_escape esc, char *err,
                         size_t errcap)
{
    static const hk_event empty = {0};
    return run(tpl, e ? e : &empty, esc, err, errcap);
}

int hk_template_check(const char *tpl, char *err, size_t errcap)
{
    char *r = run(tpl, NULL, HK_ESC_NONE, err, errcap);
    if (!r)
        return -1;
    free(r);
    return 0;
}
