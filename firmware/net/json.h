/*
 * json.h - writes one flat JSON object into a caller's buffer, escaping strings, so a
 * webhook body such as {"value1": "kitchen", "value2": "say \"hi\""} is always valid JSON
 * whatever the configured values contain. Layout matches MicroPython's json.dumps():
 * ", " between members and ": " after keys.
 *
 *   char body[128];
 *   json_writer w;
 *   json_begin(&w, body, sizeof body);
 *   json_str(&w, "value1", button_id);
 *   json_int(&w, "wake_ms", 1234);
 *   int n = json_end(&w);   (length written, or BH_ERR_TOOBIG: body is then "")
 */
#ifndef BH_NET_JSON_H
#define BH_NET_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *buf;
    size_t cap, len;
    int members;
    bool over;          /* something did not fit: json_end() fails */
} json_writer;

void json_begin(json_writer *w, char *buf, size_t cap);
void json_str(json_writer *w, const char *key, const char *value);  /* NULL value: null */
void json_int(json_writer *w, const char *key, long value);
void json_bool(json_writer *w, const char *key, bool value);
int json_end(json_writer *w);

/* Writes s as a quoted JSON string ("..." with \" \\ \n \u0001 escapes) NUL-terminated;
 * returns its length or BH_ERR_TOOBIG. Bytes >= 0x80 pass through (UTF-8 stays UTF-8). */
int json_quote(char *out, size_t cap, const char *s);

#endif
