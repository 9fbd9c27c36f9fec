/*
 * placeholders.h - {battery_mv}, {presses}, {rssi}, {press} in VALUE2 and VALUE3 (config.md):
 * replaced by the board's figures as each press is sent. The syntax is Python's str.format
 * with bare names: {name} is a placeholder, {{ and }} a literal brace; anything else with a
 * brace (a single }, an unclosed {, an unknown name) is a config.py error, found when
 * config.py is read (config.c), with its line. A plain string is sent unchanged.
 *
 * Adding a placeholder is one row here, X(name, function): the function, defined anywhere in
 * the firmware, writes the value (at most cap bytes, NUL included) and returns its length;
 * 0, an empty value, when the board cannot tell (a board without a supply reading).
 */
#ifndef BH_PLACEHOLDERS_H
#define BH_PLACEHOLDERS_H

#include <stddef.h>

#define BH_PLACEHOLDERS(X)          \
    X(battery_mv, ph_battery_mv)    \
    X(presses, ph_presses)          \
    X(rssi, ph_rssi)                \
    X(press, ph_press)

#define PH_PROTO(name, fn) int fn(char *out, size_t cap);
BH_PLACEHOLDERS(PH_PROTO)
#undef PH_PROTO

/* The largest value a placeholder writes, NUL included. */
#define PH_VALUE_MAX 16

/* The value of placeholder i (its row in BH_PLACEHOLDERS); NULL: a check only. */
typedef int (*ph_value_fn)(int i, char *out, size_t cap);

/* Reads text once: with out, writes it there with every placeholder replaced (value(i, ...)
 * gives placeholder i) and returns the length, or BH_ERR_TOOBIG when it does not fit in cap
 * bytes (NUL included). Without out, only checks. A malformed text is BH_ERR_ARG with why
 * saying what and where ("unknown placeholder {x} ..."). Names only: no value function is
 * linked in, so the host's config checker takes this file alone. */
int ph_scan(const char *text, char *out, size_t cap, ph_value_fn value, char *why, size_t wcap);

/* ph_scan() with the placeholders' own functions (payload.c). */
int ph_expand(const char *text, char *out, size_t cap);

#endif
