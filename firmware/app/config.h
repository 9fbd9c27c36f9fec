/*
 * config.h - reads the chapter's config.py: one `NAME = value` per line, the value a Python
 * string ('...', "..." or u'...', with \\ \' \" \n \t \r \a \b \f \v \xNN \uXXXX \UXXXXXXXX
 * escapes; code points are stored as UTF-8) or a Python integer (decimal, 0x, 0o, 0b,
 * underscores, optional sign); True/False/None parse but fit no setting. `# comments`, blank
 * lines. Only what Python itself accepts is accepted, so the same file still imports on a
 * real MicroPython board; raw, bytes and triple-quoted strings are refused with a message,
 * and so is any byte that is not UTF-8 (Latin-1, overlong forms, surrogates), comments
 * included, as Python refuses a source file that is not.
 *
 * Diagnostics go to a callback, one line each, "config.py:LINE: what is wrong" or
 * "config.py:LINE: warning: ...". Every problem in the file is reported, not just the first.
 *
 * Usage:
 *     bh_config cfg;
 *     if (cfg_load("config.py", &cfg, print_diag, NULL) < 0) ... show the error, blink ...
 *     if (cfg_has(&cfg, VALUE2)) ... cfg.value2 ...
 */
#ifndef BH_CONFIG_H
#define BH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bh_opts.h"

/* Every setting, one line each. Adding a setting is adding a line here; the struct field,
 * the presence bit and the parser entry all follow from it.
 *   STR(NAME, field, required, size, check)   size: char array size, NUL included
 *   INT(NAME, field, default, min, max, check)
 * check: CFG_CHECK_NONE, CFG_CHECK_NONEMPTY, CFG_CHECK_URL (url_parse() takes it, as the
 *        HTTP client will: "config.py:LINE: NAME: " and its reason otherwise),
 *        CFG_CHECK_RANGE (min..max), CFG_CHECK_PIN (hal_pin_valid), CFG_CHECK_PULLUP_PIN (a
 *        usable pin with a pull-up: not GPIO16, for the debug jumper),
 *        CFG_CHECK_PLACEHOLDERS ({name} placeholders known to placeholders.h, {{ and }}). */
#define BH_CFG_KEYS(STR, INT)                                                              \
    STR(WIFI_SSID, wifi_ssid, 1, 33, CFG_CHECK_NONEMPTY)                                   \
    STR(WIFI_PASSWORD, wifi_password, 1, 65, CFG_CHECK_NONE)                               \
    STR(WEBHOOK_URL, webhook_url, 1, BH_URL_MAX, CFG_CHECK_URL)                            \
    STR(BUTTON_ID, button_id, 1, BH_CFG_STR_MAX, CFG_CHECK_NONE)                           \
    INT(LED_PIN, led_pin, 2, 0, 0, CFG_CHECK_PIN)                                          \
    INT(LED2_PIN, led2_pin, 16, 0, 0, CFG_CHECK_PIN)                                       \
    INT(DEBUG_PIN, debug_pin, 14, 0, 0, CFG_CHECK_PULLUP_PIN)                              \
    STR(VALUE2, value2, 0, BH_CFG_STR_MAX, CFG_CHECK_PLACEHOLDERS)                         \
    STR(VALUE3, value3, 0, BH_CFG_STR_MAX, CFG_CHECK_PLACEHOLDERS)                         \
    STR(CA_FILE, ca_file, 0, BH_CFG_NAME_MAX, CFG_CHECK_NONEMPTY)                          \
    INT(WIFI_TIMEOUT, wifi_timeout, BH_WIFI_TIMEOUT_MS / 1000, 1, 300, CFG_CHECK_RANGE)    \
    INT(HTTP_TIMEOUT, http_timeout, BH_HTTP_TOTAL_TIMEOUT_MS / 1000, 1, 300, CFG_CHECK_RANGE) \
    INT(FAST_WAKE, fast_wake, 1, 0, 1, CFG_CHECK_RANGE)                                   \
    INT(AWAKE_MAX, awake_max, 20, 5, 300, CFG_CHECK_RANGE)                                \
    INT(RETRY_WAKE, retry_wake, 60, 0, BH_RETRY_MAX_S, CFG_CHECK_RANGE)                   \
    INT(SUCCESS_BLINK, success_blink, 0, 0, 1, CFG_CHECK_RANGE)                           \
    INT(LOW_BATTERY_MV, low_battery_mv, 0, 0, 5000, CFG_CHECK_RANGE)                      \
    INT(BUTTON_PIN, button_pin, -1, 0, 0, CFG_CHECK_PULLUP_PIN)                           \
    STR(DOUBLE_EVENT, double_event, 0, BH_EVENT_MAX, CFG_CHECK_NONEMPTY)                  \
    STR(LONG_EVENT, long_event, 0, BH_EVENT_MAX, CFG_CHECK_NONEMPTY)

enum {
    CFG_CHECK_NONE,
    CFG_CHECK_NONEMPTY,
    CFG_CHECK_URL,
    CFG_CHECK_RANGE,
    CFG_CHECK_PIN,
    CFG_CHECK_PULLUP_PIN,
    CFG_CHECK_PLACEHOLDERS
};

/* BH_CFG_<NAME>: the index of a setting, and its bit in bh_config.present */
enum {
#define BH_CFG_ENUM_S(name, field, req, size, check) BH_CFG_##name,
#define BH_CFG_ENUM_I(name, field, def, lo, hi, check) BH_CFG_##name,
    BH_CFG_KEYS(BH_CFG_ENUM_S, BH_CFG_ENUM_I)
#undef BH_CFG_ENUM_S
#undef BH_CFG_ENUM_I
    BH_CFG_NKEYS
};

typedef struct bh_config {
#define BH_CFG_FIELD_S(name, field, req, size, check) char field[size];
#define BH_CFG_FIELD_I(name, field, def, lo, hi, check) int32_t field;
    BH_CFG_KEYS(BH_CFG_FIELD_S, BH_CFG_FIELD_I)
#undef BH_CFG_FIELD_S
#undef BH_CFG_FIELD_I
    uint32_t present;   /* bit BH_CFG_<NAME>: the file set it (else the field holds its default) */
} bh_config;

/* Did config.py set NAME? e.g. cfg_has(&cfg, VALUE2) */
#define cfg_has(cfg, NAME) ((((cfg)->present) >> BH_CFG_##NAME) & 1u)

/* is_error: 1 for an error, 0 for a warning. msg is one line without a newline, valid only
 * during the call. */
typedef void (*cfg_diag_fn)(void *ctx, int is_error, const char *msg);

/* Parse text[0..len) (need not be NUL-terminated). fname prefixes every message. out always
 * ends up holding the defaults plus every value that parsed, even on error.
 * Returns 0, or BH_ERR_ARG after reporting every problem through diag (which may be NULL). */
int cfg_parse(const char *fname, const char *text, size_t len, bh_config *out, cfg_diag_fn diag,
              void *ctx);

/* Read the flash file fname (NULL: config.py; at most BH_CFG_FILE_MAX bytes, into a static
 * buffer: a longer file is BH_ERR_TOOBIG, "config.py: N bytes, over the M-byte limit ...")
 * and parse it.
 * Returns 0, BH_ERR_NOENT (missing file), BH_ERR_TOOBIG, BH_ERR_IO or BH_ERR_ARG, each with
 * a message through diag. */
int cfg_load(const char *fname, bh_config *out, cfg_diag_fn diag, void *ctx);

/* The setting's name for an index, or NULL. */
const char *cfg_key_name(int key);

#endif
