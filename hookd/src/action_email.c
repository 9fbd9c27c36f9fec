/*
 * action_email.c - the email action: an RFC 5322 message sent through libcurl's SMTP client
 * (smtp:// with optional STARTTLS, or smtps://; AUTH when a username is given). The message
 * builder is shared with the maildir action, so both deliver the same mail.
 *
 * Without subject and body the mail is IFTTT's default one (docs/actions.md). The body is
 * HTML (values HTML-escaped) unless "html" is false, sent quoted-printable so any UTF-8 and
 * any line length survive 7-bit relays; a non-ASCII subject becomes RFC 2047 encoded words.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "action_util.h"
#include "hookd.h"

#define DEFAULT_SUBJECT "The event named \"{{EventName}}\" occurred on the Maker Webhooks service"
#define DEFAULT_BODY_HTML                                                                      \
    "What: {{EventName}}<br>\n"                                                                \
    "When: {{OccurredAt}}<br>\n"                                                               \
    "Extra Data: {{Value1}}, {{Value2}}, {{Value3}}<br>\n"
#define DEFAULT_BODY_TEXT                                                                      \
    "What: {{EventName}}\n"                                                                    \
    "When: {{OccurredAt}}\n"                                                                   \
    "Extra Data: {{Value1}}, {{Value2}}, {{Value3}}\n"

/* ---------------------------------------------------------------- addresses */

void hka_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

int hka_mail_split(const char *s, char ***items)
{
    size_t n = 0, cap = 4;
    char **v = calloc(cap + 1, sizeof *v);
    if (!v)
        return -1;
    bool quoted = false;
    int angle = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '"' && (p == s || p[-1] != '\\'))
            quoted = !quoted;
        else if (!quoted && *p == '<')
            angle++;
        else if (!quoted && *p == '>' && angle)
            angle--;
        if (*p && (quoted || angle || (*p != ',' && *p != ';')))
            continue;
        char *item = trim_dup(start, (size_t)(p - start));
        if (!item) {
            hka_strv_free(v);
            return -1;
        }
        if (!*item)
            free(item);
        else {
            if (n == cap) {
                char **nv = realloc(v, (cap * 2 + 1) * sizeof *v);
                if (!nv) {
                    free(item);
                    hka_strv_free(v);
                    return -1;
                }
                v = nv;
                cap *= 2;
            }
            v[n++] = item;
            v[n] = NULL;
        }
        if (!*p)
            break;
        start = p + 1;
    }
    *items = v;
    return (int)n;
}

char *hka_mail_addr(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return NULL;
    const char *lt = strrchr(s, '<');
    char *a;
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt || gt[strspn(gt + 1, " \t") + 1])
            return NULL;
        a = trim_dup(lt + 1, (size_t)(gt - lt - 1));
    } else
        a = trim_dup(s, strlen(s));
    if (!a)
        return NULL;
    /* one ASCII word with an @, of RFC 5321's sizes, and nothing that would break an SMTP
     * command or a header (no SMTPUTF8: an address in UTF-8 is refused, not mangled) */
    const char *at = strrchr(a, '@');
    bool ok = at && at != a && at[1] && at - a <= 64 && strlen(a) <= 254;
    for (const char *p = a; ok && *p; p++)
        ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && !strchr("<>,;\"()[]\\", *p);
    if (!ok) {
        free(a);
        return NULL;
    }
    return a;
}

/* The address items of a template: each item of the template text ("Name <addr>" or "addr",
 * split at commas before expansion) expanded on its own, its display name and its address
 * separately. So an ingredient fills only the place the template gives it: a value in the
 * display name stays a name, however many "<x@y>" it holds (add_address_header quotes or
 * encodes it), and a value in the address must be exactly one address. */
typedef struct {
    char **names;     /* display names ("" when none), NULL-terminated */
    char **addrs;     /* bare addresses */
    int n;
} mail_list;

static void mail_list_free(mail_list *l)
{
    hka_strv_free(l->names);
    hka_strv_free(l->addrs);
    memset(l, 0, sizeof *l);
}

/* Splits one item of a template into its display-name and address templates: "N <A>" gives
 * N and A, a bare "A" gives "" and A. */
static int split_item(const char *item, char **name_tpl, char **addr_tpl)
{
    const char *lt = strrchr(item, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt && !gt[strspn(gt + 1, " \t") + 1]) {
        *name_tpl = trim_dup(item, (size_t)(lt - item));
        *addr_tpl = trim_dup(lt + 1, (size_t)(gt - lt - 1));
    } else {
        *name_tpl = strdup("");
        *addr_tpl = trim_dup(item, strlen(item));
    }
    return *name_tpl && *addr_tpl ? 0 : -1;
}

static int add_str(char ***v, int n, char *s)
{
    char **nv = realloc(*v, (size_t)(n + 2) * sizeof **v);
    if (!nv) {
        free(s);
        return -1;
    }
    nv[n] = s;
    nv[n + 1] = NULL;
    *v = nv;
    return 0;
}

/* Appends the items of template tpl, expanded for e, to l. -1 with a message naming field. */
static int mail_list_add(mail_list *l, const char *field, const char *tpl, const hk_event *e,
                         char *err, size_t errcap)
{
    char **items = NULL;
    int n = hka_mail_split(tpl, &items);
    if (n < 0) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char *name_tpl = NULL, *addr_tpl = NULL, *name = NULL, *addr = NULL, *a = NULL;
        char why[256];
        rc = -1;
        if (split_item(items[i], &name_tpl, &addr_tpl) != 0) {
            snprintf(err, errcap, "out of memory");
        } else if (!(name = hk_template_expand(name_tpl, e, HK_ESC_NONE, why, sizeof why)) ||
                   !(addr = hk_template_expand(addr_tpl, e, HK_ESC_NONE, why, sizeof why))) {
            snprintf(err, errcap, "field \"%s\": %s", field, why);
        } else if (strchr(addr, '<') || !(a = hka_mail_addr(addr))) {
            snprintf(err, errcap, "field \"%s\": not one address: \"%.80s\"", field, addr);
        } else {
            size_t nl = strlen(name);
            /* the template's own quotes around a name ("\"Doe, J\" <j@d>") go; the name is
             * quoted again, properly, when the header is written */
            if (nl >= 2 && name_tpl[0] == '"' && name_tpl[strlen(name_tpl) - 1] == '"' &&
                name[0] == '"' && name[nl - 1] == '"') {
                memmove(name, name + 1, nl - 2);
                name[nl - 2] = '\0';
            }
            if (add_str(&l->names, l->n, name) == 0) {
                name = NULL;
                if (add_str(&l->addrs, l->n, a) == 0) {
                    a = NULL;
                    l->n++;
                    rc = 0;
                } else {
                    free(l->names[l->n]);
                    l->names[l->n] = NULL;
                }
            }
            if (rc != 0)
                snprintf(err, errcap, "out of memory");
        }
        free(name_tpl);
        free(addr_tpl);
        free(name);
        free(addr);
        free(a);
    }
    hka_strv_free(items);
    return rc;
}

/* "from" (or def when absent): exactly one item. */
static int mail_from(const json_t *fields, const char *def, const hk_event *e, mail_list *l,
                     char *err, size_t errcap)
{
    memset(l, 0, sizeof *l);
    const char *tpl = hka_get_str(fields, "from", def);
    if (!tpl || mail_list_add(l, "from", tpl, e, err, errcap) != 0) {
        if (!tpl)
            snprintf(err, errcap, "field \"from\" is required");
        mail_list_free(l);
        return -1;
    }
    if (l->n != 1) {
        snprintf(err, errcap, "field \"from\": not one address: \"%.80s\"", tpl);
        mail_list_free(l);
        return -1;
    }
    return 0;
}

/* "to": a string "a, b" or a list of them, every item on its own. */
static int mail_to(const json_t *fields, const hk_event *e, mail_list *l, char *err,
                   size_t errcap)
{
    memset(l, 0, sizeof *l);
    json_t *to = json_object_get(fields, "to");
    for (size_t i = 0; to && i < (json_is_array(to) ? json_array_size(to) : 1); i++) {
        const char *tpl = json_string_value(json_is_array(to) ? json_array_get(to, i) : to);
        if (!tpl) {
            snprintf(err, errcap, "field \"to\": must be text");
            mail_list_free(l);
            return -1;
        }
        if (mail_list_add(l, "to", tpl, e, err, errcap) != 0) {
            mail_list_free(l);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- encodings */

static void add_base64(hka_buf *b, const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {t[v >> 18], t[(v >> 12) & 63], i + 1 < n ? t[(v >> 6) & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        hka_buf_add(b, q, 4);
    }
}

static bool is_plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* RFC 2047 "B" encoded words, split on UTF-8 boundaries and folded so that no line passes
 * 76 characters; col is where the first one starts. */
static size_t add_encoded_words(hka_buf *b, const char *s, size_t col, const char *eol)
{
    size_t n = strlen(s), i = 0;
    bool first = true;
    while (i < n || first) {
        /* 12 characters of "=?UTF-8?B?" and "?=", 4 of base64 for every 3 bytes */
        size_t room = col + 12 + 8 <= 76 ? (76 - col - 12) / 4 * 3 : 3;
        size_t take = n - i < room ? n - i : room;
        while (take && i + take < n && ((unsigned char)s[i + take] & 0xC0) == 0x80)
            take--;
        if (!take && i < n)
            take = 1;
        if (!first) {
            hka_buf_adds(b, eol);
            hka_buf_addc(b, ' ');
            col = 1;
        }
        hka_buf_adds(b, "=?UTF-8?B?");
        add_base64(b, (const unsigned char *)s + i, take);
        hka_buf_adds(b, "?=");
        col += 12 + (take + 2) / 3 * 4;
        i += take;
        first = false;
    }
    return col;
}

/* One unstructured header ("Subject: ..."), folded at spaces, encoded when not plain ASCII or
 * when a word is too long to fold. Control characters (CR, LF: header injection) are spaces. */
static void add_text_header(hka_buf *b, const char *name, const char *value, const char *eol)
{
    char *v = hka_utf8_clean(value);
    if (!v) {
        b->failed = true;
        return;
    }
    for (char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    hka_buf_printf(b, "%s: ", name);
    bool long_word = false;
    for (const char *p = v; *p;) {
        size_t w = strcspn(p, " ");
        if (w > 70)
            long_word = true;
        p += w;
        p += strspn(p, " ");
    }
    if (!is_plain_ascii(v) || long_word) {
        add_encoded_words(b, v, strlen(name) + 2, eol);
    } else {
        size_t col = strlen(name) + 2;
        const char *p = v;
        while (*p) {
            size_t w = strcspn(p + 1, " ") + 1;   /* a word with the space before it */
            if (col + w > 76 && col > strlen(name) + 2 && *p == ' ') {
                hka_buf_adds(b, eol);
                col = 0;
            }
            hka_buf_add(b, p, w);
            col += w;
            p += w;
        }
    }
    hka_buf_adds(b, eol);
    free(v);
}

/* RFC 5322's atext, and the space between words: a display name of only these is written as
 * it is. Anything else (",", "<", "@", quotes...) would be read as structure, so the name is
 * quoted. */
static bool is_plain_phrase(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(" !#$%&'*+-/=?^_`{|}~", *s))
            return false;
    return true;
}

/* An address header: one item a line, "Name <a@b>" or "a@b". The display name is data, never
 * structure: plain words as they are, other ASCII as a quoted-string (" and \ escaped), and
 * a name that is not ASCII, or too long for a line, as RFC 2047 encoded words; so an
 * ingredient in it cannot add an address however many "<x@y>" it holds. Control characters
 * (CR, LF: header injection) are spaces. */
static void add_address_header(hka_buf *b, const char *name, const mail_list *l,
                               const char *eol)
{
    hka_buf_printf(b, "%s: ", name);
    for (int i = 0; i < l->n; i++) {
        if (i)
            hka_buf_printf(b, ",%s ", eol);
        size_t col = i ? 1 : strlen(name) + 2;
        char *v = hka_utf8_clean(l->names[i]);
        if (!v) {
            b->failed = true;
            return;
        }
        for (char *p = v; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
        char *dn = trim_dup(v, strlen(v));
        free(v);
        if (!dn) {
            b->failed = true;
            return;
        }
        size_t len = strlen(dn), quoted = len + 2;
        for (const char *p = dn; *p; p++)
            quoted += *p == '"' || *p == '\\';
        if (!*dn) {
            hka_buf_adds(b, l->addrs[i]);   /* a bare address, checked by hka_mail_addr */
            free(dn);
            continue;
        }
        /* "=?" would make a plain or quoted name read as an encoded word by some clients:
         * such a name is encoded itself, so it reads back as the text it is */
        bool looks_encoded = strstr(dn, "=?") != NULL;
        if (is_plain_phrase(dn) && !looks_encoded && col + len <= 76) {
            hka_buf_adds(b, dn);
            col += len;
        } else if (is_plain_ascii(dn) && !looks_encoded && col + quoted <= 76) {
            hka_buf_addc(b, '"');
            for (const char *p = dn; *p; p++) {
                if (*p == '"' || *p == '\\')
                    hka_buf_addc(b, '\\');
                hka_buf_addc(b, *p);
            }
            hka_buf_addc(b, '"');
            col += quoted;
        } else {
            col = add_encoded_words(b, dn, col, eol);
        }
        if (col + 3 + strlen(l->addrs[i]) > 76)
            hka_buf_adds(b, eol);   /* fold before the <address> */
        hka_buf_printf(b, " <%s>", l->addrs[i]);
        free(dn);
    }
    hka_buf_adds(b, eol);
}

/* RFC 2045 quoted-printable: lines of at most 76 characters, line breaks kept as hard breaks,
 * trailing white space and a leading dot encoded. */
static void add_qp(hka_buf *b, const char *s, const char *eol)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n') {
            hka_buf_adds(b, eol);
            col = 0;
            continue;
        }
        bool at_eol = !p[1] || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        bool literal = (*p >= 33 && *p <= 126 && *p != '=' && !(*p == '.' && col == 0)) ||
                       ((*p == ' ' || *p == '\t') && !at_eol);
        size_t w = literal ? 1 : 3;
        /* a soft break leaves room for the "=" that ends the line */
        if (col + w > 75) {
            hka_buf_addc(b, '=');
            hka_buf_adds(b, eol);
            col = 0;
            if (*p == '.')
                literal = false, w = 3;
        }
        if (literal)
            hka_buf_addc(b, (char)*p);
        else {
            char enc[3] = {'=', hex[*p >> 4], hex[*p & 15]};
            hka_buf_add(b, enc, 3);
        }
        col += w;
    }
}

static void add_date(hka_buf *b, const char *eol)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        gmtime_r(&now, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    hka_buf_printf(b, "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld%s", days[tm.tm_wday % 7],
                   tm.tm_mday, mons[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, sign, off / 60, off % 60, eol);
}

/* <hookd.KEY@domain>: the same for every attempt of one delivery, so a receiver that saw a
 * retried mail twice can tell. */
static void add_message_id(hka_buf *b, const char *key, const char *from_addr, const char *eol)
{
    static atomic_uint counter;
    hka_buf_adds(b, "Message-ID: <hookd.");
    if (key && *key) {
        for (const char *p = key; *p && p - key < 128; p++)
            hka_buf_addc(b, isalnum((unsigned char)*p) || *p == '-' || *p == '_' ? *p : '-');
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        hka_buf_printf(b, "%lld.%ld.%d.%u", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(),
                       atomic_fetch_add(&counter, 1));
    }
    hka_buf_addc(b, '@');
    const char *dom = from_addr ? strrchr(from_addr, '@') : NULL;
    size_t added = 0;
    if (dom)
        for (const char *p = dom + 1; *p; p++)
            if (isalnum((unsigned char)*p) || *p == '-' || *p == '.') {
                hka_buf_addc(b, *p);
                added++;
            }
    if (!added)
        hka_buf_adds(b, "hookd.localhost");
    hka_buf_printf(b, ">%s", eol);
}

char *hka_mail_build(const json_t *fields, const hk_event *e, const char *key,
                     const char *from_def, const char *eol, char *err, size_t errcap)
{
    bool html = hka_get_bool(fields, "html", true);
    char *subject = NULL, *body = NULL;
    mail_list from = {0}, to = {0};
    hka_buf b = {.max = 16 * HK_TEMPLATE_OUTPUT_MAX};
    char *out = NULL;

    if (mail_from(fields, from_def, e, &from, err, errcap) != 0 ||
        mail_to(fields, e, &to, err, errcap) != 0)
        goto done;
    subject = hka_expand(fields, "subject", DEFAULT_SUBJECT, e, HK_ESC_NONE, err, errcap);
    if (!subject)
        goto done;
    body = hka_expand(fields, "body", html ? DEFAULT_BODY_HTML : DEFAULT_BODY_TEXT, e,
                      html ? HK_ESC_HTML : HK_ESC_NONE, err, errcap);
    if (!body)
        goto done;
    char *clean_body = hka_utf8_clean(body);
    free(body);
    body = clean_body;
    if (!body)
        goto done;

    add_date(&b, eol);
    add_address_header(&b, "From", &from, eol);
    if (to.n > 0)
        add_address_header(&b, "To", &to, eol);
    add_text_header(&b, "Subject", subject, eol);
    add_message_id(&b, key, from.addrs[0], eol);
    hka_buf_printf(&b, "MIME-Version: 1.0%s", eol);
    hka_buf_printf(&b, "Content-Type: %s; charset=utf-8%s", html ? "text/html" : "text/plain",
                   eol);
    hka_buf_printf(&b, "Content-Transfer-Encoding: quoted-printable%s", eol);
    hka_buf_printf(&b, "Auto-Submitted: auto-generated%s", eol);
    hka_buf_printf(&b, "X-Mailer: hookd%s", eol);
    hka_buf_adds(&b, eol);
    add_qp(&b, body, eol);
    if (b.len < strlen(eol) || strcmp(b.p + b.len - strlen(eol), eol))
        hka_buf_adds(&b, eol);
    out = hka_buf_take(&b);
    if (!out)
        snprintf(err, errcap, "message too large or out of memory");
done:
    hka_buf_free(&b);
    mail_list_free(&from);
    mail_list_free(&to);
    free(subject);
    free(body);
    return out;
}

/* ---------------------------------------------------------------- the SMTP action */

static const hka_field email_fields[] = {
    {"url", HKA_STRING, true, 0, 0},
    {"starttls", HKA_BOOL, false, 0, 0},
    {"username", HKA_STRING, false, 0, 0},
    {"password", HKA_STRING, false, 0, 0},
    {"from", HKA_TEMPLATE, true, 0, 0},
    {"to", HKA_TEMPLATES, true, 0, 0},
    {"subject", HKA_TEMPLATE, false, 0, 0},
    {"body", HKA_TEMPLATE, false, 0, 0},
    {"html", HKA_BOOL, false, 0, 0},
    {"timeout", HKA_INT, false, 1, 600},
    {"ca_file", HKA_STRING, false, 0, 0},
    {"insecure", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

/* Scheme and host of an smtp:// or smtps:// URL, parsed by libcurl. */
static int parse_smtp_url(const char *url, bool *tls, bool *loopback, char *err, size_t errcap)
{
    hka_libs_init();
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL;
    int rc = -1;
    if (!u)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, errcap, "email: field \"url\": not a URL: \"%.80s\"", url);
        goto out;
    }
    if (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")) {
        snprintf(err, errcap, "email: field \"url\" must start with smtp:// or smtps://");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        snprintf(err, errcap,
                 "email: field \"url\": put the user name in \"username\", not in the URL");
        goto out;
    }
    *tls = !strcmp(scheme, "smtps");
    *loopback = !strcmp(host, "localhost") || !strncmp(host, "127.", 4) ||
                !strcmp(host, "[::1]");
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

static int email_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, email_fields, "email", err, errcap))
        return -1;
    bool tls, loopback;
    if (parse_smtp_url(hka_get_str(fields, "url", ""), &tls, &loopback, err, errcap))
        return -1;
    if (hka_get_str(fields, "password", NULL) && !tls && !hka_get_bool(fields, "starttls", false)
        && !loopback) {
        snprintf(err, errcap, "email: field \"starttls\" must be true (or the url smtps://) "
                              "to send a password to a remote server");
        return -1;
    }
    if (hka_get_str(fields, "password", NULL) && !hka_get_str(fields, "username", NULL)) {
        snprintf(err, errcap, "email: field \"username\" is required with \"password\"");
        return -1;
    }
    /* addresses that are plain text can be checked now; templated ones when they expand */
    const char *from = hka_get_str(fields, "from", "");
    if (strstr(from, "{{")) {
        /* the sender is the configured one: an ingredient may fill the display name only */
        char **items = NULL, *name_tpl = NULL, *addr_tpl = NULL;
        int n = hka_mail_split(from, &items);
        bool ok = n == 1 && split_item(items[0], &name_tpl, &addr_tpl) == 0 &&
                  !strstr(addr_tpl, "{{");
        char *a = ok ? hka_mail_addr(addr_tpl) : NULL;
        hka_strv_free(items);
        free(name_tpl);
        free(addr_tpl);
        if (!a) {
            snprintf(err, errcap, "email: field \"from\": the address must be written out, "
                                  "with ingredients only in the name (\"{{Value1}} "
                                  "<hookd@example.com>\"): \"%.80s\"", from);
            return -1;
        }
        free(a);
    } else {
        char **items = NULL;
        int n = hka_mail_split(from, &items);
        char *a = n == 1 ? hka_mail_addr(items[0]) : NULL;
        hka_strv_free(items);
        if (!a) {
            snprintf(err, errcap, "email: field \"from\": not one address: \"%.80s\"", from);
            return -1;
        }
        free(a);
    }
    json_t *to = json_object_get(fields, "to");
    for (size_t i = 0; i < (json_is_array(to) ? json_array_size(to) : 1); i++) {
        const char *t = json_string_value(json_is_array(to) ? json_array_get(to, i) : to);
        if (!t || strstr(t, "{{"))
            continue;
        char **items = NULL;
        int n = hka_mail_split(t, &items);
        for (int k = 0; k < n; k++) {
            char *a = hka_mail_addr(items[k]);
            if (!a) {
                snprintf(err, errcap, "email: field \"to\": not an address: \"%.80s\"",
                         items[k]);
                hka_strv_free(items);
                return -1;
            }
            free(a);
        }
        hka_strv_free(items);
        if (n <= 0) {
            snprintf(err, errcap, "email: field \"to\" has no address");
            return -1;
        }
    }
    return 0;
}

typedef struct {
    const char *p;
    size_t left;
} reader;

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
    reader *r = ud;
    size_t want = size * n;
    if (want > r->left)
        want = r->left;
    memcpy(buf, r->p, want);
    r->p += want;
    r->left -= want;
    return want;
}

static hk_action_status email_run(const json_t *fields, const hk_event *e,
                                  const char *idempotency_key, char *result, size_t cap)
{
    char err[512] = "";
    hk_action_status st = HK_ACTION_FAIL;
    bool tls = false, loopback = false;
    const char *url = hka_get_str(fields, "url", "");
    char *msg = NULL;
    const char *from_addr = NULL;
    mail_list from = {0}, to = {0};
    struct curl_slist *rcpt_list = NULL;
    CURL *c = NULL;
    int nrcpt = 0;

    if (email_validate(fields, err, sizeof err) ||
        parse_smtp_url(url, &tls, &loopback, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    msg = hka_mail_build(fields, e, idempotency_key, NULL, "\r\n", err, sizeof err);
    if (!msg) {
        hka_result(result, cap, "email: %s", err);
        return HK_ACTION_FAIL;
    }
    /* the envelope: the same addresses the message's headers hold */
    if (mail_from(fields, NULL, e, &from, err, sizeof err) == 0 &&
        mail_to(fields, e, &to, err, sizeof err) == 0) {
        from_addr = from.addrs[0];
        for (int i = 0; i < to.n; i++) {
            char angle[512];
            if (strlen(to.addrs[i]) < sizeof angle - 2) {
                snprintf(angle, sizeof angle, "<%s>", to.addrs[i]);
                struct curl_slist *l = curl_slist_append(rcpt_list, angle);
                if (l)
                    rcpt_list = l;
            }
        }
        nrcpt = to.n;
    }
    if (!from_addr || !rcpt_list) {
        hka_result(result, cap, "email: no sender or no recipient address after expansion");
        goto out;
    }

    hka_libs_init();
    c = curl_easy_init();
    if (!c) {
        hka_result(result, cap, "email: out of memory");
        st = HK_ACTION_RETRY;
        goto out;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char mail_from[512];
    snprintf(mail_from, sizeof mail_from, "<%s>", from_addr);
    reader r = {msg, strlen(msg)};
    long timeout_ms = (long)hka_get_int(fields, "timeout", 30) * 1000;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt_list);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r.left);
    hka_curl_setup(c, fields, timeout_ms, errbuf);
    if (hka_get_bool(fields, "starttls", false))
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (hka_get_str(fields, "username", NULL)) {
        curl_easy_setopt(c, CURLOPT_USERNAME, hka_get_str(fields, "username", NULL));
        curl_easy_setopt(c, CURLOPT_PASSWORD, hka_get_str(fields, "password", ""));
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        st = HK_ACTION_OK;
        hka_result(result, cap, "email: sent to %d recipient%s via %s (%ld)", nrcpt,
                   nrcpt == 1 ? "" : "s", url, code);
    } else {
        /* the server's word decides when it gave one: 4xx is temporary, 5xx permanent */
        if (code >= 400 && code < 500)
            st = HK_ACTION_RETRY;
        else if (code >= 500 && code < 600)
            st = HK_ACTION_FAIL;
        else
            st = hka_curl_status(rc);
        hka_result(result, cap, "email: %s via %s: %s%s%s", st == HK_ACTION_RETRY ?
                   "will retry" : "failed", url, curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                   errbuf);
        if (code) {
            size_t o = strlen(result);
            if (o < cap)
                snprintf(result + o, cap - o, " (SMTP %ld)", code);
        }
    }
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(rcpt_list);
    mail_list_free(&from);
    mail_list_free(&to);
    free(msg);
    return st;
}

const hk_action hk_action_email = {"email", email_validate, email_run};
