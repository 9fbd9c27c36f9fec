/* test_config.c - the config.py reader: every rule, message texts, defaults, flash loading. */
#include <stdio.h>
#include <string.h>

#include "app/config.h"
#include "testboard.h"

static char diags[4096];
static int nerr, nwarn;

static void collect(void *ctx, int is_error, const char *m)
{
    (void)ctx;
    size_t n = strlen(diags);
    snprintf(diags + n, sizeof diags - n, "%s\n", m);
    if (is_error)
        nerr++;
    else
        nwarn++;
}

static bh_config cfg;

static int parse(const char *text)
{
    diags[0] = 0;
    nerr = nwarn = 0;
    return cfg_parse("config.py", text, strlen(text), &cfg, collect, NULL);
}

#define BASE                                                                         \
    "WIFI_SSID = 'your SSID'\n"                                                      \
    "WIFI_PASSWORD = 'your Wi-Fi password'\n"                                        \
    "WEBHOOK_URL = 'http://maker.ifttt.com/trigger/button_pressed/with/key/abc'\n" \
    "BUTTON_ID = 'micropython1'\n"

/* the chapter's final config.py, byte for byte apart from the key */
static void test_chapter_file(void)
{
    CHECK_INT(parse(BASE "LED_PIN = 2  # D4\nLED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\n"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.wifi_ssid, "your SSID");
    CHECK_STR(cfg.wifi_password, "your Wi-Fi password");
    CHECK_STR(cfg.webhook_url, "http://maker.ifttt.com/trigger/button_pressed/with/key/abc");
    CHECK_STR(cfg.button_id, "micropython1");
    CHECK_INT(cfg.led_pin, 2);
    CHECK_INT(cfg.led2_pin, 16);
    CHECK_INT(cfg.debug_pin, 14);
    CHECK(cfg_has(&cfg, LED_PIN));
    CHECK(!cfg_has(&cfg, VALUE2));
}

static void test_defaults(void)
{
    CHECK_INT(parse(BASE), 0);
    CHECK_STR(diags, "");
    CHECK_INT(cfg.led_pin, 2);
    CHECK_INT(cfg.led2_pin, 16);
    CHECK_INT(cfg.debug_pin, 14);
    CHECK_INT(cfg.wifi_timeout, 15);
    CHECK_INT(cfg.http_timeout, 10);
    CHECK_STR(cfg.value2, "");
    CHECK_STR(cfg.ca_file, "");
    CHECK(!cfg_has(&cfg, LED_PIN));
    CHECK(!cfg_has(&cfg, WIFI_TIMEOUT));
    CHECK(cfg_has(&cfg, WIFI_SSID) && cfg_has(&cfg, BUTTON_ID));
}

static void test_optional(void)
{
    CHECK_INT(parse(BASE "VALUE2 = 'kitchen'\nVALUE3 = \"x\"\nCA_FILE = 'ca.pem'\n"
                         "WIFI_TIMEOUT = 30\nHTTP_TIMEOUT = 5\n"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.value2, "kitchen");
    CHECK_STR(cfg.value3, "x");
    CHECK_STR(cfg.ca_file, "ca.pem");
    CHECK_INT(cfg.wifi_timeout, 30);
    CHECK_INT(cfg.http_timeout, 5);
    CHECK(cfg_has(&cfg, VALUE2) && cfg_has(&cfg, VALUE3) && cfg_has(&cfg, CA_FILE));
}

static void test_syntax(void)
{
    /* blank lines, whitespace, comments, CRLF and lone CR, tabs around '=', BOM */
    CHECK_INT(parse("\xEF\xBB\xBF# my button\r\n\r\n   \n\t# indented comment\n"
                    "WIFI_SSID\t=\t\"a#b\"   # not a comment inside quotes\r"
                    "WIFI_PASSWORD='' \n"
                    "WEBHOOK_URL = 'https://h/x'\nBUTTON_ID = 'b'#c"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.wifi_ssid, "a#b");
    CHECK_STR(cfg.wifi_password, "");

    CHECK_INT(parse(BASE "LED_PIN = 2\n  LED2_PIN = 4\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:6: unexpected indent\n");
    CHECK_INT(parse(BASE "LED_PIN 2\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: expected NAME = value\n");
    CHECK_INT(parse(BASE "LED_PIN == 2\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: expected NAME = value\n");
    CHECK_INT(parse(BASE "= 2\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: expected NAME = value\n");
    CHECK_INT(parse(BASE "import network\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: expected NAME = value\n");
    CHECK_INT(parse(BASE "LED_PIN =\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: missing value after 'LED_PIN ='\n");
    CHECK_INT(parse(BASE "LED_PIN = # two\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: missing value after 'LED_PIN ='\n");
    CHECK_INT(parse(BASE "LED_PIN = 2 3\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unexpected text after the value: 3\n");
    CHECK_INT(parse(BASE "VALUE2 = 'a' 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unexpected text after the value: 'b'\n");
    CHECK_INT(parse(BASE "LED_PIN = D4\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED_PIN: expected a string in quotes or an integer after "
                     "'='\n");
    CHECK_INT(parse(BASE "LED_PIN = [2]\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED_PIN: expected a string in quotes or an integer after '='\n");
}

static void test_strings(void)
{
    CHECK_INT(parse(BASE "VALUE2 = 'it\\'s \\\"q\\\" \\\\ \\n\\t\\r\\x41\\x7e'\n"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.value2, "it's \"q\" \\ \n\t\r\x41~");
    CHECK_INT(parse(BASE "VALUE2 = \"it's\"\nVALUE3 = '\\a\\b\\f\\v'\n"), 0);
    CHECK_STR(cfg.value2, "it's");
    CHECK_STR(cfg.value3, "\a\b\f\v");
    /* a str holds code points; the firmware sends their UTF-8 bytes */
    CHECK_INT(parse(BASE "VALUE2 = '\\xe9\\u20ac\\U0001F600 caf\xc3\xa9'\n"), 0);
    CHECK_STR(cfg.value2, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 caf\xc3\xa9");
    CHECK_INT(parse(BASE "VALUE2 = u'x'\n"), 0);
    CHECK_STR(cfg.value2, "x");

    CHECK_INT(parse(BASE "VALUE2 = 'abc\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unterminated string\n");
    CHECK_INT(parse("WIFI_SSID = \"x'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'http://a'\n"
                    "BUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: unterminated string\n");
    CHECK_INT(parse(BASE "VALUE2 = 'abc\\'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unterminated string\n");
    CHECK_INT(parse(BASE "VALUE2 = 'a\\\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unterminated string\n");
    CHECK_INT(parse(BASE "VALUE2 = 'C:\\data'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unknown escape \\d\n");
    CHECK_INT(parse(BASE "VALUE2 = 'a\\101'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: octal escape \\1...: use \\xNN\n");
    CHECK_INT(parse(BASE "VALUE2 = '\\x4'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: truncated \\x escape: expected 2 hex digits\n");
    CHECK_INT(parse(BASE "VALUE2 = '\\u12g4'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: truncated \\u escape: expected 4 hex digits\n");
    CHECK_INT(parse(BASE "VALUE2 = '\\ud800'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: \\uD800 is a surrogate\n");
    CHECK_INT(parse(BASE "VALUE2 = '\\U00110000'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: \\U00110000 is not a Unicode character\n");
    CHECK_INT(parse(BASE "VALUE2 = '\\N{DASH}'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: \\N{...}: use \\uXXXX\n");
    CHECK_INT(parse(BASE "VALUE2 = 'a\\x00b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: VALUE2 contains a NUL character\n");
    CHECK_INT(parse(BASE "VALUE2 = '''x'''\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: triple-quoted strings are not supported\n");
    CHECK_INT(parse(BASE "VALUE2 = b'x'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: string prefix b: use a plain '...'\n");
    CHECK_INT(parse(BASE "VALUE2 = ''\n"), 0);
    CHECK(cfg_has(&cfg, VALUE2));
}

static void test_integers(void)
{
    CHECK_INT(parse(BASE "WIFI_TIMEOUT = 0x1f\nHTTP_TIMEOUT = 1_0\nLED_PIN = 0b10\n"
                         "LED2_PIN = 0o20\nDEBUG_PIN = +  13\n"), 0);
    CHECK_STR(diags, "");
    CHECK_INT(cfg.wifi_timeout, 31);
    CHECK_INT(cfg.http_timeout, 10);
    CHECK_INT(cfg.led_pin, 2);
    CHECK_INT(cfg.led2_pin, 16);
    CHECK_INT(cfg.debug_pin, 13);
    CHECK_INT(parse(BASE "FOO = -2147483648\nBAR = 0\nBAZ = 00\nQ = 2147483647\n"
                         "R = -0x80000000\nS = 0b1111111111111111111111111111111\n"), 0);
    CHECK_INT(nwarn, 6);
    CHECK_INT(parse(BASE "WIFI_TIMEOUT = 0x12C\n"), 0);
    CHECK_INT(cfg.wifi_timeout, 300);
    CHECK_INT(parse(BASE "FOO = 0x80000000\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: integer 0x80000000 is out of range\n");
    CHECK_INT(parse(BASE "FOO = 0xFFFFFFFFF\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: integer 0xFFFFFFFFF is out of range\n");
    CHECK_INT(parse(BASE "FOO = -2147483649\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: integer -2147483649 is out of range\n");

    CHECK_INT(parse(BASE "LED_PIN = 02\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: leading zeros: use 0o for octal\n");
    CHECK_INT(parse(BASE "LED_PIN = 2.5\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: not a whole number: 2.5\n");
    CHECK_INT(parse(BASE "LED_PIN = 2.5e3 # big\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: not a whole number: 2.5e3\n");
    CHECK_INT(parse(BASE "LED_PIN = 2 \x01\x7f\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: unexpected text after the value: ??\n");
    CHECK_INT(parse(BASE "LED_PIN = 2x\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: invalid number 2x\n");
    CHECK_INT(parse(BASE "LED_PIN = 1__2\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: invalid number 1__2\n");
    CHECK_INT(parse(BASE "LED_PIN = 0x\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: invalid number: no digits after '0x'\n");
    CHECK_INT(parse(BASE "LED_PIN = -\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: expected a number after '-'\n");
    CHECK_INT(parse(BASE "FOO = 2147483648\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: integer 2147483648 is out of range\n");
    CHECK_INT(parse(BASE "FOO = -99999999999999999999999\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: integer -99999999999999999999 is out of range\n");
}

static void test_types_and_checks(void)
{
    CHECK_INT(parse(BASE "LED_PIN = '2'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED_PIN must be an integer, got a string\n");
    CHECK_INT(parse(BASE "LED_PIN = True\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED_PIN must be an integer, got True\n");
    CHECK_INT(parse(BASE "VALUE2 = 5\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: VALUE2 must be a string in quotes, got an integer\n");
    CHECK_INT(parse(BASE "VALUE2 = None\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: VALUE2 must be a string in quotes, got None\n");

    CHECK_INT(parse(BASE "LED_PIN = 6\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED_PIN = 6 is not a usable GPIO (valid: 0-5, 9, 10, 12-16)\n");
    CHECK_INT(parse(BASE "LED2_PIN = -1\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: LED2_PIN = -1 is not a usable GPIO (valid: 0-5, 9, 10, 12-16)\n");
    CHECK_INT(parse(BASE "DEBUG_PIN = 16\nLED2_PIN = 4\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: DEBUG_PIN = 16: GPIO16 has no pull-up (try 14)\n");
    CHECK_INT(parse(BASE "WIFI_TIMEOUT = 0\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: WIFI_TIMEOUT = 0 is out of range (1..300)\n");
    CHECK_INT(parse(BASE "HTTP_TIMEOUT = 301\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: HTTP_TIMEOUT = 301 is out of range (1..300)\n");

    CHECK_INT(parse("WIFI_SSID = '123456789012345678901234567890123'\nWIFI_PASSWORD = ''\n"
                    "WEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: WIFI_SSID is over 32 bytes\n");
    CHECK_INT(parse("WIFI_SSID = '12345678901234567890123456789012'\nWIFI_PASSWORD = ''\n"
                    "WEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n"), 0);
    CHECK_INT((int)strlen(cfg.wifi_ssid), 32);
    /* length counts UTF-8 bytes, as the radio does */
    CHECK_INT(parse("WIFI_SSID = '\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac"
                    "\\u20ac\\u20ac\\u20ac'\nWIFI_PASSWORD = ''\n"
                    "WEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: WIFI_SSID is over 32 bytes\n");
    char longpw[200];
    snprintf(longpw, sizeof longpw, "WIFI_SSID = 's'\nWIFI_PASSWORD = '%065d'\n"
             "WEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n", 0);
    CHECK_INT(parse(longpw), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:2: WIFI_PASSWORD is over 64 bytes\n");
    CHECK_INT(parse("WIFI_SSID = ''\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'http://a'\n"
                    "BUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: WIFI_SSID is empty\n");

    static char longurl[BH_URL_MAX + 400];
    int n = snprintf(longurl, sizeof longurl, "WIFI_SSID = 's'\nWIFI_PASSWORD = ''\n"
                     "BUTTON_ID = 'b'\nWEBHOOK_URL = 'http://h/");
    while (n < (int)sizeof longurl - 50)
        longurl[n++] = 'k';
    snprintf(longurl + n, sizeof longurl - (size_t)n, "'\n");
    CHECK_INT(parse(longurl), BH_ERR_ARG);
    char want[128];
    snprintf(want, sizeof want, "config.py:4: WEBHOOK_URL is over %d bytes\n", BH_URL_MAX - 1);
    CHECK_STR(diags, want);

    CHECK_INT(parse("WIFI_SSID = 's'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'maker.ifttt.com/x'\n"
                    "BUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:3: WEBHOOK_URL: missing scheme (http:// or https://)\n");
    CHECK_INT(parse("WIFI_SSID = 's'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'https:///x'\n"
                    "BUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:3: WEBHOOK_URL: empty host\n");
    CHECK_INT(parse(BASE "CA_FILE = ''\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: CA_FILE is empty\n");
}

/* Python decodes the whole file as UTF-8 before it reads a line: a file saved as Latin-1
 * (an editor's default on some systems) imports nowhere, so it is refused here too, with the
 * line and the column (in characters) of the first bad byte, comments included. */
static void test_utf8(void)
{
    CHECK_INT(parse(BASE "VALUE2 = 'caf\xe9'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 14: byte 0xe9 is not UTF-8 (save the file as UTF-8)\n");
    CHECK(!cfg_has(&cfg, VALUE2));
    /* the column counts characters: the 'é' before it is one */
    CHECK_INT(parse(BASE "VALUE2 = '\xc3\xa9\xe9'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 12: byte 0xe9 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "LED_PIN = 2  # 20\xb0" "C\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 18: byte 0xb0 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = 'x\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 12: byte 0x80 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = 'caf\xc3'\n"), BH_ERR_ARG);   /* its continuation missing */
    CHECK_STR(diags, "config.py:5: column 14: byte 0xc3 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = 'x'  # caf\xc3"), BH_ERR_ARG);  /* at the end of the file */
    CHECK_STR(diags, "config.py:5: column 20: byte 0xc3 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xf5\x80\x80\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xf5 starts a code point past "
                     "U+10FFFF\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xf8\x80\x80\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xf8 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = '\x80\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0x80 is not UTF-8 (save the file as UTF-8)\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xe1\x80'\n"), BH_ERR_ARG);   /* one continuation short */
    CHECK_STR(diags, "config.py:5: column 11: byte 0xe1 is not UTF-8 (save the file as UTF-8)\n");
    /* what a lax encoder writes: overlong forms, surrogates, past U+10FFFF */
    CHECK_INT(parse(BASE "VALUE2 = '\xc0\xaf'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xc0 starts an overlong form\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xe0\x80\xaf'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xe0 starts an overlong form\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xf0\x8f\xbf\xbf'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xf0 starts an overlong form\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xed\xa0\x80\xed\xb0\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xed starts a surrogate\n");
    CHECK_INT(parse(BASE "VALUE2 = '\xf4\x90\x80\x80'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 11: byte 0xf4 starts a code point past "
                     "U+10FFFF\n");
    /* a NUL byte in the source, which Python refuses too */
    static const char nul[] = BASE "VALUE2 = 'a\0b'\n";
    diags[0] = 0;
    CHECK_INT(cfg_parse("config.py", nul, sizeof nul - 1, &cfg, collect, NULL), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: column 12: byte 0x00 is not allowed\n");

    /* one error for the line: its setting is not also missing, nor left with an earlier value */
    CHECK_INT(parse("WIFI_SSID = 'Caf\xe9 Wi-Fi'\nWIFI_PASSWORD = ''\n"
                    "WEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: column 17: byte 0xe9 is not UTF-8 (save the file as UTF-8)\n");
    CHECK(!cfg_has(&cfg, WIFI_SSID));
    CHECK_INT(parse(BASE "VALUE2 = 'a'\nVALUE2 = '\xe9'\n"), BH_ERR_ARG);
    CHECK_INT(nerr, 1);
    CHECK(!cfg_has(&cfg, VALUE2));
    /* a bad byte outside a string: that one message for the line, and what is missing after
     * it still is reported */
    CHECK_INT(parse("WIFI_SSID = 'x'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'http://a'\n"
                    "BUTTON_ID\xa0= 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:4: column 10: byte 0xa0 is not UTF-8 (save the file as UTF-8)\n"
                     "config.py: missing BUTTON_ID\n");
    /* every bad line is reported */
    CHECK_INT(parse(BASE "# \xe9\nVALUE2 = '\xe9'\n"), BH_ERR_ARG);
    CHECK_INT(nerr, 2);

    /* UTF-8 is fine anywhere, up to U+10FFFF, as are the longest valid forms */
    CHECK_INT(parse(BASE "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"
                         "VALUE2 = '\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\xc2\x80'\n"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.value2, "\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\xc2\x80");
}

/* WEBHOOK_URL is checked by the HTTP client's own URL parser when config.py is read, so a URL
 * the request would refuse stops the board with its line, before Wi-Fi is joined. */
static void test_webhook_url(void)
{
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"http://hooks.example:99999/x", "bad port '99999' (1-65535)"},
        {"http://hooks.example:0/x", "bad port '0' (1-65535)"},
        {"http://hooks.example:/x", "empty port after ':'"},
        {"http://hooks.example/trigger/button pressed", "space or control character at offset "
                                                         "35 of URL"},
        {"http://hooks .example/x", "space or control character at offset 12 of URL"},
        {"http://user:pw@hooks.example/x", "user:password@ in URLs is not supported"},
        {"ftp://hooks.example/x", "unsupported scheme 'ftp' (only http and https)"},
        {"http://[::1]/x", "IPv6 address literals are not supported"},
        {"http://256.1.1.1/x", "bad IPv4 address '256.1.1.1'"},
        {"http://hooks.example/caf\\xe9", "non-ASCII byte at offset 24 of URL (percent-encode "
                                           "it)"},
        {"https:hooks.example/x", "expected '//' after 'https:'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], want[160];
        snprintf(text, sizeof text, "WIFI_SSID = 's'\nWIFI_PASSWORD = ''\nBUTTON_ID = 'b'\n"
                 "\nWEBHOOK_URL = '%s'\n", bad[i].url);
        snprintf(want, sizeof want, "config.py:5: WEBHOOK_URL: %s\n", bad[i].why);
        CHECK_INT(parse(text), BH_ERR_ARG);
        CHECK_STR(diags, want);
        CHECK(!cfg_has(&cfg, WEBHOOK_URL));
    }
    /* what the client takes: any case of the scheme, a port, an address, a query */
    CHECK_INT(parse("WIFI_SSID = 's'\nWIFI_PASSWORD = ''\nBUTTON_ID = 'b'\n"
                    "WEBHOOK_URL = 'HTTPS://127.0.0.1:8443/t?x=1'\n"), 0);
    CHECK_STR(diags, "");
    CHECK_STR(cfg.webhook_url, "HTTPS://127.0.0.1:8443/t?x=1");
}

static void test_missing_unknown_duplicate(void)
{
    CHECK_INT(parse(""), BH_ERR_ARG);
    CHECK_STR(diags, "config.py: missing WIFI_SSID\nconfig.py: missing WIFI_PASSWORD\n"
                     "config.py: missing WEBHOOK_URL\nconfig.py: missing BUTTON_ID\n");
    CHECK_INT(nerr, 4);
    /* the chapter's first config.py only had the Wi-Fi settings */
    CHECK_INT(parse("WIFI_SSID = 'your SSID'\nWIFI_PASSWORD = 'your Wi-Fi password'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py: missing WEBHOOK_URL\nconfig.py: missing BUTTON_ID\n");

    CHECK_INT(parse(BASE "FOO = 1\nwifi_ssid = 'x'\n"), 0);
    CHECK_STR(diags, "config.py:5: warning: unknown setting FOO ignored\n"
                     "config.py:6: warning: unknown setting wifi_ssid ignored "
                     "(did you mean WIFI_SSID?)\n");
    CHECK_INT(nwarn, 2);
    CHECK_STR(cfg.wifi_ssid, "your SSID");

    CHECK_INT(parse(BASE "LED_PIN = 4\nLED_PIN = 5\n"), 0);
    CHECK_STR(diags, "config.py:6: warning: LED_PIN set again (first on line 5)\n");
    CHECK_INT(cfg.led_pin, 5);
    /* a bad later value is an error even though an earlier one was fine */
    CHECK_INT(parse(BASE "LED_PIN = 4\nLED_PIN = 'x\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:6: warning: LED_PIN set again (first on line 5)\n"
                     "config.py:6: unterminated string\n");
    CHECK(!cfg_has(&cfg, LED_PIN));
    /* a bad value on a line does not also count as missing */
    CHECK_INT(parse("WIFI_SSID = 5\nWIFI_PASSWORD = ''\nWEBHOOK_URL = 'http://a'\nBUTTON_ID = 'b'\n"),
              BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: WIFI_SSID must be a string in quotes, got an integer\n");
    CHECK(!cfg_has(&cfg, WIFI_SSID));
}

static void test_all_problems_reported(void)
{
    CHECK_INT(parse("WIFI_SSID = 'x\nWIFI_PASSWORD 'p'\nLED_PIN = 7\nLED2_PIN = 'a'\nFOO = 1\n"
                    "BUTTON_ID = 'b'\n"), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:1: unterminated string\n"
                     "config.py:2: expected NAME = value\n"
                     "config.py:3: LED_PIN = 7 is not a usable GPIO (valid: 0-5, 9, 10, 12-16)\n"
                     "config.py:4: LED2_PIN must be an integer, got a string\n"
                     "config.py:5: warning: unknown setting FOO ignored\n"
                     "config.py: missing WIFI_PASSWORD\n"
                     "config.py: missing WEBHOOK_URL\n");
    CHECK_INT(nerr, 6);
    CHECK_INT(nwarn, 1);
    CHECK_STR(cfg.button_id, "b");
}

static void test_pin_warnings(void)
{
    CHECK_INT(parse(BASE "LED_PIN = 4\nLED2_PIN = 4\n"), 0);
    CHECK_STR(diags, "config.py: warning: LED_PIN and LED2_PIN are both GPIO4\n");
    CHECK_INT(parse(BASE "LED_PIN = 14\n"), 0);
    CHECK_STR(diags, "config.py: warning: DEBUG_PIN = 14 is also an LED pin\n");
}

static void test_no_diag_and_not_terminated(void)
{
    /* text need not be NUL-terminated: only len bytes are read */
    char buf[] = BASE "LED_PIN = 5XXXXXXX";
    CHECK_INT(cfg_parse("config.py", buf, strlen(BASE) + 11, &cfg, NULL, NULL), 0);
    CHECK_INT(cfg.led_pin, 5);
    CHECK_INT(cfg_parse("config.py", NULL, 0, &cfg, NULL, NULL), BH_ERR_ARG);
    CHECK_STR(cfg_key_name(BH_CFG_WIFI_SSID), "WIFI_SSID");
    CHECK(cfg_key_name(BH_CFG_NKEYS) == NULL);
}

static void test_load(void)
{
    tb_reset();
    diags[0] = 0;
    nerr = nwarn = 0;
    CHECK_INT(cfg_load("config.py", &cfg, collect, NULL), BH_ERR_NOENT);
    CHECK_STR(diags, "config.py: not found on the board's flash\n");

    tb_fs_put("config.py", BASE "LED_PIN = 4\n");
    diags[0] = 0;
    CHECK_INT(cfg_load("config.py", &cfg, collect, NULL), 0);
    CHECK_STR(diags, "");
    CHECK_INT(cfg.led_pin, 4);
    CHECK_STR(cfg.button_id, "micropython1");

    tb_fs_put("other.py", "LED_PIN = 6\n");
    diags[0] = 0;
    CHECK_INT(cfg_load("other.py", &cfg, collect, NULL), BH_ERR_ARG);
    CHECK(strstr(diags, "other.py:1: LED_PIN = 6 is not a usable GPIO") == diags);

    static char big[BH_CFG_FILE_MAX + 2];
    memset(big, '#', sizeof big - 1);
    tb_fs_put("config.py", big);
    diags[0] = 0;
    CHECK_INT(cfg_load("config.py", &cfg, collect, NULL), BH_ERR_TOOBIG);
    char want[96];
    snprintf(want, sizeof want, "config.py: %d bytes, over the %d-byte limit\n",
             BH_CFG_FILE_MAX + 1, BH_CFG_FILE_MAX);
    CHECK_STR(diags, want);

    big[BH_CFG_FILE_MAX] = 0;   /* exactly the cap is fine (all comment) */
    tb_fs_put("config.py", big);
    diags[0] = 0;
    CHECK_INT(cfg_load("config.py", &cfg, collect, NULL), BH_ERR_ARG);
    CHECK(strstr(diags, "config.py: missing WIFI_SSID\n") == diags);
}

int main(void)
{
    tb_reset();
    test_chapter_file();
    test_defaults();
    test_optional();
    test_syntax();
    test_strings();
    test_integers();
    test_types_and_checks();
    test_utf8();
    test_webhook_url();
    test_missing_unknown_duplicate();
    test_all_problems_reported();
    test_pin_warnings();
    test_no_diag_and_not_terminated();
    test_load();
    return tb_done("test_config");
}
