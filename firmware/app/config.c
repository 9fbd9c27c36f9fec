/* config.c - the config.py reader: a strict subset of Python, line by line, no heap. */
#include "app/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/placeholders.h"
#include "hal/hal.h"
#include "net/url.h"

typedef struct {
    const char *name;
    uint16_t offset;
    uint16_t size;      /* string keys: the char array size, NUL included; 0 for integers */
    uint8_t required;
    uint8_t check;
    int16_t def, lo, hi;  /* 16 bits: a smaller table, for the ESP8266's 32 KB code budget */
} cfg_key;

/* ... which every integer setting's default and range must fit */
#define FITS_S(name, field, req, size, check)
#define FITS_I(name, field, def, lo, hi, check) \
    _Static_assert((def) >= INT16_MIN && (def) <= INT16_MAX && (lo) >= INT16_MIN && \
                   (hi) <= INT16_MAX, #name ": default and range must fit int16_t");
BH_CFG_KEYS(FITS_S, FITS_I)
#undef FITS_S
#undef FITS_I

static const cfg_key keys[BH_CFG_NKEYS] = {
#define KEY_S(name, field, req, size, check) \
    {#name, offsetof(bh_config, field), size, req, check, 0, 0, 0},
#define KEY_I(name, field, def, lo, hi, check) \
    {#name, offsetof(bh_config, field), 0, 0, check, def, lo, hi},
    BH_CFG_KEYS(KEY_S, KEY_I)
#undef KEY_S
#undef KEY_I
};

/* Decoded string values land here first; sized for the largest string setting. */
union cfg_longest {
#define LEN_S(name, field, req, size, check) char field[size];
#define LEN_I(name, field, def, lo, hi, check)
    BH_CFG_KEYS(LEN_S, LEN_I)
#undef LEN_S
#undef LEN_I
};
static char vbuf[sizeof(union cfg_longest)];

typedef enum { V_STR, V_INT, V_TRUE, V_FALSE, V_NONE } vkind;

typedef struct {
    vkind kind;
    int32_t i;
    size_t len;         /* decoded length in bytes; may exceed what vbuf kept */
    bool has_nul;
} value;

typedef struct {
    const char *fname;
    cfg_diag_fn diag;
    void *ctx;
    int line;           /* current line, 1-based */
    int errors;
    bool muted;         /* the line is not UTF-8: already reported, nothing else is */
} parser;

static char msg[BH_PRINT_MAX];

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void report(parser *ps, int is_error, int line, const char *fmt, ...)
{
    if (is_error)
        ps->errors++;
    if (!ps->diag || ps->muted)
        return;
    int n = line > 0 ? snprintf(msg, sizeof msg, "%s:%d: %s", ps->fname, line,
                                is_error ? "" : "warning: ")
                     : snprintf(msg, sizeof msg, "%s: %s", ps->fname, is_error ? "" : "warning: ");
    if (n < 0)
        return;
    if ((size_t)n < sizeof msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    ps->diag(ps->ctx, is_error, msg);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\f'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident(char c) { return is_alpha(c) || is_digit(c); }

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_byte(value *v, uint8_t b)
{
    if (v->len < sizeof vbuf - 1)
        vbuf[v->len] = (char)b;
    if (b == 0)
        v->has_nul = true;
    v->len++;
}

/* A Python str holds code points; the firmware uses their UTF-8 bytes, as MicroPython's
 * mp_obj_str_get_data() hands them to network and socket calls. */
static void put_code_point(value *v, uint32_t cp)
{
    int n = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;   /* continuation bytes */
    /* the lead byte: n + 1 high bits set (none for ASCII), then the code point's top bits */
    put_byte(v, (uint8_t)(((0xFF00u >> (n + 1)) & (n ? 0xFF : 0)) | (cp >> (6 * n))));
    while (n--)
        put_byte(v, (uint8_t)(0x80 | ((cp >> (6 * n)) & 0x3F)));
}

/* Python reads a source file as UTF-8 (PEP 3120) and refuses the whole file, comments
 * included, at the first byte that is not, as its strict decoder does; MicroPython has no
 * coding cookie, so neither does this: Latin-1 is refused, not guessed. Well-formed but not
 * allowed: overlong forms, surrogates and code points past U+10FFFF. Python also refuses a
 * NUL byte. Returns the first bad byte in [p, end), or NULL, with *col its column (in
 * characters, as Python counts them) and *why an index into utf8_why. */
static const char *const utf8_why[] = {
    "is not UTF-8 (save the file as UTF-8)", "starts an overlong form", "starts a surrogate",
    "starts a code point past U+10FFFF", "is not allowed"};

static const char *utf8_check(const char *p, const char *end, int *col, int *why)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t n = (size_t)(end - p);
    *col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned b = s[i];
        ++*col;
        if (b - 1u < 0x7Fu)
            continue;   /* ASCII, NUL excepted */
        unsigned len = b >= 0xF8 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
        *why = b == 0 ? 4 : 0;
        if (len == 0)
            return p + i;   /* NUL, a stray continuation byte, F8..FF */
        uint32_t cp = b & (0x7Fu >> len);
        for (unsigned k = 1; k < len; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                return p + i;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        *why = cp < (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u) ? 1
             : cp >> 11 == 0x1B ? 2 : cp > 0x10FFFF ? 3 : 0;
        if (*why)
            return p + i;
        i += len - 1;
    }
    return NULL;
}

/* p points at the opening quote. Returns the position after the closing quote, or NULL after
 * reporting an error. */
static const char *parse_string(parser *ps, const char *p, const char *end, value *v)
{
    char q = *p++;
    v->kind = V_STR;
    v->len = 0;
    v->has_nul = false;
    if (end - p >= 2 && p[0] == q && p[1] == q) {
        report(ps, 1, ps->line, "triple-quoted strings are not supported");
        return NULL;
    }
    while (p < end) {
        char c = *p++;
        if (c == q) {
            vbuf[v->len < sizeof vbuf ? v->len : sizeof vbuf - 1] = 0;
            return p;
        }
        if (c != '\\') {
            put_byte(v, (uint8_t)c);
            continue;
        }
        if (p == end)
            break;
        char e = *p++;
        /* Python's escapes: the simple ones, then \x, \u and \U with their digit counts */
        static const char esc_in[] = "\\'\"abfnrtvxuU", esc_out[] = "\\'\"\a\b\f\n\r\t\v\2\4\10";
        const char *m = memchr(esc_in, e, sizeof esc_in - 1);
        if (!m) {
            if (e == 'N')
                report(ps, 1, ps->line, "\\N{...}: use \\uXXXX");
            else if (e >= '0' && e <= '7')
                report(ps, 1, ps->line, "octal escape \\%c...: use \\xNN", e);
            else   /* a character for the console: printable ASCII as is, anything else \xNN */
                report(ps, 1, ps->line, (unsigned char)e - 0x20u < 0x5Fu ? "unknown escape \\%c"
                       : "unknown escape \\\\x%02x", (unsigned char)e);
            return NULL;
        }
        int ndigits = m - esc_in >= 10 ? esc_out[m - esc_in] : 0;
        if (ndigits == 0) {
            put_byte(v, (uint8_t)esc_out[m - esc_in]);
            continue;
        }
        uint32_t cp = 0;
        for (int i = 0; i < ndigits; i++) {
            int h = p + i < end ? hex_val(p[i]) : -1;
            if (h < 0) {
                report(ps, 1, ps->line, "truncated \\%c escape: expected %d hex digits", e, ndigits);
                return NULL;
            }
            cp = cp << 4 | (uint32_t)h;
        }
        p += ndigits;
        if (cp > 0x10FFFF) {
            report(ps, 1, ps->line, "\\U%08lX is not a Unicode character", (unsigned long)cp);
            return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            report(ps, 1, ps->line, "\\u%04lX is a surrogate",
                   (unsigned long)cp);
            return NULL;
        }
        put_code_point(v, cp);
    }
    report(ps, 1, ps->line, "unterminated string");
    return NULL;
}

/* p points at a sign or a digit. Python's integer literal syntax: 0x/0o/0b prefixes, single
 * underscores between digits, no leading zeros on decimal numbers. */
static const char *parse_int(parser *ps, const char *p, const char *end, value *v)
{
    bool neg = false;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p = skip_space(p + 1, end);
        if (p == end || !is_digit(*p)) {
            report(ps, 1, ps->line, "expected a number after '%c'", neg ? '-' : '+');
            return NULL;
        }
    }
    const char *start = p;
    unsigned base = 10;
    if (end - p >= 2 && p[0] == '0') {
        char x = (char)(p[1] | 0x20);
        if (x == 'x') base = 16;
        else if (x == 'o') base = 8;
        else if (x == 'b') base = 2;
        if (base != 10) {
            p += 2;
            if (p < end && *p == '_')
                p++;
        }
    }
    uint32_t acc = 0;   /* 32-bit: the ESP8266 keeps 64-bit multiply helpers in ROM */
    int ndigits = 0;
    bool overflow = false, nonzero = false;
    while (p < end) {
        int d = hex_val(*p);
        if (d < 0 || (unsigned)d >= base) {
            if (*p == '_' && ndigits > 0 && p + 1 < end && hex_val(p[1]) >= 0 &&
                (unsigned)hex_val(p[1]) < base) {
                p++;
                continue;
            }
            break;
        }
        if (d != 0)
            nonzero = true;
        /* constant limits: no division helper, which the ESP8266 also keeps in ROM */
        uint32_t lim = base == 16 ? 0x08000000u : base == 10 ? 0x0CCCCCCCu
                     : base == 8 ? 0x10000000u : 0x40000000u;
        if (acc > lim || acc * base + (unsigned)d > 0x80000000u)
            overflow = true;
        else
            acc = acc * base + (unsigned)d;
        ndigits++;
        p++;
    }
    if (ndigits == 0) {
        report(ps, 1, ps->line, "invalid number: no digits after '%.2s'", start);
        return NULL;
    }
    if (p < end && (is_ident(*p) || *p == '.')) {
        int shown = 0;   /* the whole token, which is ASCII by construction */
        while (start + shown < end && shown < 20 && (is_ident(start[shown]) || start[shown] == '.'))
            shown++;
        if (*p == '.' || ((*p | 0x20) == 'e' && base == 10) || (*p | 0x20) == 'j')
            report(ps, 1, ps->line, "not a whole number: %.*s", shown, start);
        else
            report(ps, 1, ps->line, "invalid number %.*s", shown, start);
        return NULL;
    }
    if (base == 10 && start[0] == '0' && nonzero) {
        report(ps, 1, ps->line,
               "leading zeros: use 0o for octal");
        return NULL;
    }
    if (overflow || (!neg && acc > 0x7FFFFFFFu)) {
        report(ps, 1, ps->line, "integer %s%.*s is out of range", neg ? "-" : "",
               (int)(p - start > 20 ? 20 : p - start), start);
        return NULL;
    }
    v->kind = V_INT;
    /* -2147483648 has no positive counterpart: negate in unsigned arithmetic */
    v->i = neg ? (int32_t)(0u - (uint32_t)acc) : (int32_t)acc;
    return p;
}

static const char *const kind_name[] = {"a string", "an integer", "True", "False", "None"};

static int key_index(const char *name, size_t len, bool nocase)
{
    for (int k = 0; k < BH_CFG_NKEYS; k++) {
        const char *kn = keys[k].name;
        if (strlen(kn) != len)
            continue;
        size_t i = 0;
        while (i < len && (kn[i] == name[i] ||
                           (nocase && (kn[i] | 0x20) == (name[i] | 0x20) && is_alpha(kn[i]))))
            i++;
        if (i == len)
            return k;
    }
    return -1;
}

/* "0-5, 9, 10, 12-16": runs of three or more pins as ranges. */
static void valid_pins(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int g = 0; g < 64 && n < cap; g++) {
        if (!hal_pin_valid(g))
            continue;
        int last = g;
        while (last + 1 < 64 && hal_pin_valid(last + 1))
            last++;
        if (last - g < 2)
            last = g;   /* one pin; a pair is two of these */
        int w = last > g ? snprintf(buf + n, cap - n, "%s%d-%d", n ? ", " : "", g, last)
                         : snprintf(buf + n, cap - n, "%s%d", n ? ", " : "", g);
        if (w < 0)
            break;
        n += (size_t)w;
        g = last;
    }
}

static bool check_value(parser *ps, const cfg_key *k, const value *v)
{
    int line = ps->line;
    if (v->kind != (k->size ? V_STR : V_INT)) {
        report(ps, 1, line, "%s must be %s, got %s", k->name,
               k->size ? "a string in quotes" : "an integer", kind_name[v->kind]);
        return false;
    }
    if (k->size) {
        if (v->has_nul) {
            report(ps, 1, line, "%s contains a NUL character", k->name);
            return false;
        }
        if (v->len > (size_t)k->size - 1u) {
            report(ps, 1, line, "%s is over %u bytes", k->name, (unsigned)k->size - 1u);
            return false;
        }
        if (k->check == CFG_CHECK_NONEMPTY && v->len == 0) {
            report(ps, 1, line, "%s is empty", k->name);
            return false;
        }
        if (k->check == CFG_CHECK_PLACEHOLDERS) {
            char why[128];
            if (ph_scan(vbuf, NULL, 0, NULL, why, sizeof why) < 0) {
                report(ps, 1, line, "%s: %s", k->name, why);
                return false;
            }
        }
        if (k->check == CFG_CHECK_URL) {
            /* the HTTP client's own parser, so that a URL it would refuse (a port over 65535,
             * a space, user:pw@) stops the board here, with the line, before Wi-Fi is joined */
            url_parts u;
            char why[96];
            if (url_parse(vbuf, &u, why, sizeof why) < 0) {
                report(ps, 1, line, "%s: %s", k->name, why);
                return false;
            }
        }
        return true;
    }
    if (k->check == CFG_CHECK_RANGE && (v->i < k->lo || v->i > k->hi)) {
        report(ps, 1, line, "%s = %ld is out of range (%ld..%ld)", k->name, (long)v->i,
               (long)k->lo, (long)k->hi);
        return false;
    }
    if (k->check == CFG_CHECK_PIN || k->check == CFG_CHECK_PULLUP_PIN) {
        if (!hal_pin_valid(v->i)) {
            char pins[64];
            valid_pins(pins, sizeof pins);
            report(ps, 1, line, "%s = %ld is not a usable GPIO (valid: %s)", k->name, (long)v->i,
                   pins);
            return false;
        }
        /* MicroPython refuses Pin(16, Pin.IN, Pin.PULL_UP): "Pin(16) doesn't support pull" */
        if (k->check == CFG_CHECK_PULLUP_PIN && v->i == 16) {
            report(ps, 1, line, "%s = 16: GPIO16 has no pull-up (try 14)",
                   k->name);
            return false;
        }
    }
    return true;
}

static void store(bh_config *out, int k, const value *v)
{
    char *field = (char *)out + keys[k].offset;
    if (keys[k].size) {
        memcpy(field, vbuf, v->len);
        field[v->len] = 0;
    } else {
        memcpy(field, &v->i, sizeof v->i);
    }
    out->present |= 1u << k;
}

/* One line, without its line ending. */
static void parse_line(parser *ps, const char *p, const char *end, bh_config *out,
                       int first_line[BH_CFG_NKEYS])
{
    int col, why;
    const char *at = utf8_check(p, end, &col, &why);
    ps->muted = false;
    if (at) {
        report(ps, 1, ps->line, "column %d: byte 0x%02x %s", col, (unsigned char)*at,
               utf8_why[why]);
        /* one message for the line: parsed on (its setting is not also missing, and keeps no
         * earlier value), but silently and stored nowhere */
        ps->muted = true;
    }
    const char *q = skip_space(p, end);
    if (q == end || *q == '#')
        return;
    if (q != p) {
        report(ps, 1, ps->line, "unexpected indent");
        return;
    }
    const char *name = p;
    if (!is_alpha(*p)) {
        report(ps, 1, ps->line, "expected NAME = value");
        return;
    }
    while (p < end && is_ident(*p))
        p++;
    size_t name_len = (size_t)(p - name);
    int shown_len = name_len > 40 ? 40 : (int)name_len;
    p = skip_space(p, end);
    if (p == end || *p != '=' || (p + 1 < end && p[1] == '=')) {
        report(ps, 1, ps->line, "expected NAME = value");
        return;
    }
    p = skip_space(p + 1, end);

    /* counted as set even if its value turns out bad, so it is not also reported missing */
    int k = key_index(name, name_len, false);
    if (k >= 0 && first_line[k])
        report(ps, 0, ps->line, "%s set again (first on line %d)",
               keys[k].name, first_line[k]);
    else if (k >= 0)
        first_line[k] = ps->line;
    if (k >= 0)
        out->present &= ~(1u << k);  /* a bad later value must not leave an earlier one valid */

    value v = {V_NONE, 0, 0, false};
    bool bad = false;
    if (p == end || *p == '#') {
        report(ps, 1, ps->line, "missing value after '%.*s ='", shown_len, name);
        return;
    }
    if (*p == '\'' || *p == '"') {
        p = parse_string(ps, p, end, &v);
    } else if (is_digit(*p) || *p == '-' || *p == '+') {
        p = parse_int(ps, p, end, &v);
    } else if (is_alpha(*p)) {
        const char *w = p;
        while (p < end && is_ident(*p))
            p++;
        size_t wl = (size_t)(p - w);
        if (p < end && (*p == '\'' || *p == '"') && wl <= 2) {
            if (wl == 1 && (*w | 0x20) == 'u') {
                p = parse_string(ps, p, end, &v);  /* u'' is a plain str in Python 3 */
            } else {
                report(ps, 1, ps->line, "string prefix %.*s: use a plain '...'",
                       (int)wl, w);
                return;
            }
        } else if (wl == 4 && memcmp(w, "True", 4) == 0) {
            v.kind = V_TRUE;
        } else if (wl == 5 && memcmp(w, "False", 5) == 0) {
            v.kind = V_FALSE;
        } else if (wl == 4 && memcmp(w, "None", 4) == 0) {
            v.kind = V_NONE;
        } else {
            bad = true;   /* a name: Python would look it up; config.py has none */
        }
    } else {
        bad = true;
    }
    if (bad) {
        report(ps, 1, ps->line, "%.*s: expected a string in quotes or an integer after '='",
               shown_len, name);
        return;
    }
    if (!p)
        return;
    p = skip_space(p, end);
    if (p < end && *p != '#') {
        char shown[21];   /* file bytes go to a console: printable ASCII only */
        size_t n = 0;
        for (; p + n < end && n < sizeof shown - 1; n++)
            shown[n] = p[n] >= 0x20 && p[n] < 0x7F ? p[n] : '?';
        shown[n] = 0;
        report(ps, 1, ps->line, "unexpected text after the value: %s", shown);
        return;
    }

    if (k < 0) {
        int near = key_index(name, name_len, true);
        if (near >= 0)
            report(ps, 0, ps->line, "unknown setting %.*s ignored (did you mean %s?)", shown_len,
                   name, keys[near].name);
        else
            report(ps, 0, ps->line, "unknown setting %.*s ignored", shown_len, name);
        return;
    }
    if (check_value(ps, &keys[k], &v) && !ps->muted)
        store(out, k, &v);
}

static void set_defaults(bh_config *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < BH_CFG_NKEYS; k++)
        if (!keys[k].size) {
            int32_t def = keys[k].def;
            memcpy((char *)out + keys[k].offset, &def, sizeof def);
        }
}

int cfg_parse(const char *fname, const char *text, size_t len, bh_config *out, cfg_diag_fn diag,
              void *ctx)
{
    parser ps = {fname ? fname : "config.py", diag, ctx, 0, 0, false};
    int first_line[BH_CFG_NKEYS] = {0};
    set_defaults(out);
    if (!text) {
        text = "";
        len = 0;
    }
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;  /* a UTF-8 byte order mark, which Python skips */
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        ps.line++;
        parse_line(&ps, p, eol, out, first_line);
        p = eol;
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n' && (p == eol || *eol == '\r'))
            p++;
    }
    ps.muted = false;
    for (int k = 0; k < BH_CFG_NKEYS; k++)
        if (keys[k].required && !first_line[k])
            report(&ps, 1, 0, "missing %s", keys[k].name);
    if (cfg_has(out, LED_PIN) || cfg_has(out, LED2_PIN))
        if (out->led_pin == out->led2_pin)
            report(&ps, 0, 0, "LED_PIN and LED2_PIN are both GPIO%ld", (long)out->led_pin);
    if (out->debug_pin == out->led_pin || out->debug_pin == out->led2_pin)
        report(&ps, 0, 0, "DEBUG_PIN = %ld is also an LED pin", (long)out->debug_pin);
    /* held through a reset, a button must not choose the boot mode: GPIO0 low is the flash
     * loader, GPIO2 low stops the boot, GPIO15 must be low (docs/press-kinds.md) */
    long b = out->button_pin;
    if (cfg_has(out, BUTTON_PIN) && ((0x8005L | 1L << out->debug_pin | 1L << out->led_pin |
                                      1L << out->led2_pin) >> b & 1))
        report(&ps, 1, first_line[BH_CFG_BUTTON_PIN], "BUTTON_PIN = %ld: not 0, 2, 15 (they "
               "choose the boot mode), an LED or DEBUG_PIN: try 12 (D6)", b);
    /* an event's name goes into WEBHOOK_URL's path in place of the one there */
    for (int k = BH_CFG_DOUBLE_EVENT; k <= BH_CFG_LONG_EVENT; k++) {
        const char *ev = (const char *)out + keys[k].offset;
        if (*ev && (ev[strcspn(ev, "/?#")] || !strstr(out->webhook_url, "/trigger/")))
            report(&ps, 1, first_line[k], "%s = '%s' cannot replace EVENT in WEBHOOK_URL's "
                   "/trigger/EVENT/ (no / ? # in a name)", keys[k].name, ev);
    }
    return ps.errors ? BH_ERR_ARG : BH_OK;
}

int cfg_load(const char *fname, bh_config *out, cfg_diag_fn diag, void *ctx)
{
    static char text[BH_CFG_FILE_MAX];
    if (!fname)
        fname = "config.py";
    parser ps = {fname, diag, ctx, 0, 0, false};
    set_defaults(out);
    int size = hal_fs_size(fname);
    if (size == BH_ERR_NOENT) {
        report(&ps, 1, 0, "not found on the board's flash");
        return BH_ERR_NOENT;
    }
    if ((size_t)size > sizeof text && size > 0) {
        report(&ps, 1, 0, "%d bytes, over the %u-byte limit", size, (unsigned)sizeof text);
        return BH_ERR_TOOBIG;
    }
    size_t got = 0;
    int n = size;
    while (n > 0 && got < (size_t)size) {
        n = hal_fs_read(fname, (uint32_t)got, text + got, (size_t)size - got);
        got += n > 0 ? (size_t)n : 0;
    }
    if (n < 0) {
        report(&ps, 1, 0, "cannot read: %s", bh_strerror(n));
        return n;
    }
    return cfg_parse(fname, text, got, out, diag, ctx);
}

const char *cfg_key_name(int key)
{
    return key >= 0 && key < BH_CFG_NKEYS ? keys[key].name : NULL;
}
