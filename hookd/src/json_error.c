/* json_error.c - jansson's parse errors in the user's words (declared in hookd.h). */
#define _GNU_SOURCE
#include "hookd.h"

#include <stdio.h>
#include <string.h>

const char *hk_json_why(const json_error_t *je, char *out, size_t cap)
{
    /* jansson's own text sometimes names its API ("\u0000 is not allowed without
     * JSON_ALLOW_NUL"), which means nothing to someone sending a body; say what is wrong in
     * the document instead, and keep jansson's text only where it describes the document */
    const char *why;
    switch (json_error_code(je)) {
    case json_error_null_character:
    case json_error_null_byte_in_key:
        why = "a string holds \\u0000 (a NUL character), which is not accepted";
        break;
    case json_error_invalid_utf8:
        why = "the text is not valid UTF-8";
        break;
    case json_error_premature_end_of_input:
        why = "the JSON ends too early (an unclosed string, object or array?)";
        break;
    case json_error_end_of_input_expected:
        why = "there is more text after the JSON value";
        break;
    case json_error_stack_overflow:
        why = "objects or arrays are nested too deeply";
        break;
    case json_error_numeric_overflow:
        why = "a number is too large";
        break;
    case json_error_duplicate_key:
        why = "an object has the same name twice";
        break;
    case json_error_out_of_memory:
        why = "out of memory";
        break;
    case json_error_invalid_syntax:
        /* "invalid token near 'x'", "'}' expected near ','": about the document */
        if (je->text[0] && !strstr(je->text, "JSON_")) {
            snprintf(out, cap, "%s", je->text);
            return out;
        }
        why = "not valid JSON";
        break;
    default:
        why = "not valid JSON";
        break;
    }
    snprintf(out, cap, "%s", why);
    return out;
}
