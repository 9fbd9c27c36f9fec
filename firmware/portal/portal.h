/*
 * portal.h - set-up without editing files: the board's own access point and a page at
 * http://192.168.4.1/ to pick the network, type its password, the webhook URL and the button
 * id; on save it joins, fires a test press, and writes config.py (docs/portal.md).
 *
 * Optional, like the console: the button firmware never calls it by name. A port that links
 * it sets app_setup = portal_run before app_main(); main.c calls it at power-on when config.py
 * is missing or the debug jumper is in.
 *
 * The two small parsers it runs on what a browser sends are public so that the unit tests and
 * the fuzzers (fuzz/fuzz_portal_req.c, fuzz/fuzz_portal_form.c) drive them without a network.
 */
#ifndef BH_PORTAL_H
#define BH_PORTAL_H

#include <stdbool.h>
#include <stddef.h>

/* Serves the set-up page until config.py is written (BH_OK) or nobody has asked for a page for
 * BH_PORTAL_IDLE_MS (cfg_err is returned: the board goes on as it would have). The access
 * point is the board's own (MicroPython's ap_if settings, kept in flash: factory
 * "MicroPython-xxxxxx" / "micropythoN"); it is turned off again before returning. */
int portal_run(int cfg_err);

/* ---- the HTTP request head (portal/req.c) ---------------------------------------------------
 * Parses buf[0..len): the request line (METHOD SP /target SP HTTP/1.x), the header lines, the
 * empty line (CRLF or a bare LF ends each line). Returns 0 while the head is not complete,
 * its length (the empty line included) once it is, or a negative bh_err with r->why saying
 * what is wrong: BH_ERR_PROTO malformed, BH_ERR_TOOBIG a Content-Length over max_body,
 * BH_ERR_UNSUPPORTED a Transfer-Encoding (the page never sends one). */
enum { PREQ_GET = 1, PREQ_POST = 2, PREQ_OTHER = 3 };
typedef struct {
    int method;              /* PREQ_* */
    const char *path;        /* the target up to '?', a view into buf */
    size_t path_len;
    size_t body_len;         /* Content-Length, 0 when absent */
    bool form;               /* Content-Type: application/x-www-form-urlencoded */
    const char *host, *origin; /* the Host and Origin headers' values (views), or NULL */
    size_t host_len, origin_len;
    const char *why;         /* on failure: what is wrong (a constant string) */
} preq;
int preq_parse(const char *buf, size_t len, size_t max_body, preq *r);

/* ---- the form (portal/form.c) ------------------------------------------------------------
 * application/x-www-form-urlencoded: name=value pairs joined by '&', '+' for a space, %XX for
 * any byte. Decodes the first field called name into out (NUL-terminated). Returns the
 * value's length, BH_ERR_NOENT when there is no such field, BH_ERR_PROTO for a bad %-escape or
 * a NUL byte (%00), BH_ERR_TOOBIG when it does not fit in cap - 1 bytes. */
int form_get(const char *body, size_t len, const char *name, char *out, size_t cap);

/* ---- config.py as the chapter writes it (portal/cfgtext.c) --------------------------------
 * The four settings the page asks for, then the chapter's pin lines, into buf; strings quoted
 * with Python's escapes (\\, \', and \xNN for control characters), so firmware/app/config.c
 * reads back exactly these values. Returns the length, or BH_ERR_TOOBIG. */
typedef struct {
    const char *ssid, *password, *url, *button_id;
} portal_settings;
int portal_config_text(const portal_settings *s, char *buf, size_t cap);

#endif
