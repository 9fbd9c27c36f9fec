/* test_placeholders.c - {battery_mv}, {presses}, {rssi} in VALUE2 and VALUE3
 * (app/placeholders.c, their values in app/payload.c): the syntax, the config.py errors with
 * their line, and the values a press sends. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "app/placeholders.h"
#include "testboard.h"

static char why[160];

static int check(const char *text)
{
    why[0] = 0;
    return ph_scan(text, NULL, 0, NULL, why, sizeof why);
}

/* every placeholder's value is "<name>", so what goes where is plain to see */
static const char *const shown[] = {"<battery_mv>", "<presses>", "<rssi>", "<4>", "<5>", "<6>"};
static int fake(int i, char *out, size_t cap)
{
    return snprintf(out, cap, "%s", shown[i]);
}

static const char *expand(const char *text, size_t cap, int *rc)
{
    static char out[256];
    memset(out, 'X', sizeof out);
    *rc = ph_scan(text, out, cap, fake, why, sizeof why);
    return out;
}

static void test_syntax(void)
{
    int rc;
    CHECK_STR(expand("micropython1 says hi", 256, &rc), "micropython1 says hi");
    CHECK_INT(rc, 20);
    CHECK_STR(expand("", 256, &rc), "");
    CHECK_INT(rc, 0);
    CHECK_STR(expand("{battery_mv} mV, press {presses}, {rssi} dBm", 256, &rc),
              "<battery_mv> mV, press <presses>, <rssi> dBm");
    CHECK_STR(expand("{{presses}} {{{presses}}} }}{{", 256, &rc), "{presses} {<presses>} }{");
    CHECK_INT(rc, (int)strlen("{presses} {<presses>} }{"));
    CHECK_STR(expand("{rssi}{rssi}", 256, &rc), "<rssi><rssi>");
    /* the value and the NUL must fit: 9 bytes hold "ab<rssi>" but not "ab<rssi>c" */
    CHECK_STR(expand("ab{rssi}", 9, &rc), "ab<rssi>");
    CHECK_INT(rc, 8);
    expand("ab{rssi}c", 9, &rc);
    CHECK_INT(rc, BH_ERR_TOOBIG);
    expand("", 0, &rc);
    CHECK_INT(rc, BH_ERR_TOOBIG);
    /* only a check: the length, nothing written */
    CHECK_INT(check("{rssi} dBm"), 4);
}

static void test_malformed(void)
{
    CHECK_INT(check("{batery_mv}"), BH_ERR_ARG);
    CHECK(strstr(why, "unknown placeholder {batery_mv} (known: {battery_mv} {presses} {rssi}"));
    CHECK(strstr(why, "{rssi} {press})"));
    CHECK_INT(check("{}"), BH_ERR_ARG);
    CHECK(strstr(why, "unknown placeholder {} (known:") == why);
    CHECK_INT(check("{ rssi}"), BH_ERR_ARG);   /* names exactly, as str.format() */
    CHECK_INT(check("{RSSI}"), BH_ERR_ARG);
    CHECK_INT(check("say {\"a\": 1}"), BH_ERR_ARG);
    CHECK(strstr(why, "unknown placeholder {\"a\": 1}"));
    CHECK_INT(check("50% off}"), BH_ERR_ARG);
    CHECK_STR(why, "unmatched '}' at offset 7 (write }} for one)");
    CHECK_INT(check("{rssi"), BH_ERR_ARG);
    CHECK_STR(why, "unmatched '{' at offset 0 (write {{ for one)");
    CHECK_INT(check("ok {{ then {"), BH_ERR_ARG);
    CHECK_STR(why, "unmatched '{' at offset 11 (write {{ for one)");
    /* a long name is cut in the message, which still fits */
    CHECK_INT(check("{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"), BH_ERR_ARG);
    CHECK(strstr(why, "{aaaaaaaaaaaaaaaaaaaaaaaa}"));
    char small[20];
    CHECK_INT(ph_scan("{nope}", NULL, 0, NULL, small, sizeof small), BH_ERR_ARG);
    CHECK_INT((int)strlen(small), (int)sizeof small - 1);
}

static char diags[1024];
static void diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    size_t n = strlen(diags);
    snprintf(diags + n, sizeof diags - n, "%s%s\n", is_error ? "" : "W ", msg);
}

static void test_config_errors_name_the_line(void)
{
    static bh_config c;
    static char text[1024];
    diags[0] = 0;
    snprintf(text, sizeof text, "%sVALUE2 = 'at {battery_mv} mV'\nVALUE3 = '{battery}'\n",
             TB_CONFIG);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &c, diag, NULL), BH_ERR_ARG);
    CHECK(strstr(diags, "config.py:6: VALUE3: unknown placeholder {battery} (known: "
                        "{battery_mv} {presses} {rssi}") == diags);
    CHECK(!strstr(diags, "config.py:5"));
    diags[0] = 0;
    snprintf(text, sizeof text, "%sVALUE2 = '}'\n", TB_CONFIG);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &c, diag, NULL), BH_ERR_ARG);
    CHECK_STR(diags, "config.py:5: VALUE2: unmatched '}' at offset 0 (write }} for one)\n");
    /* the chapter's plain strings, and escaped braces, are fine */
    snprintf(text, sizeof text, "%sVALUE2 = 'kitchen'\nVALUE3 = '{{json}}'\n", TB_CONFIG);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &c, NULL, NULL), BH_OK);
}

/* A press on the test board: the body the server got. */
static const char *press(const char *extra, hal_reset_cause_t cause)
{
    static char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s%s", TB_CONFIG, extra);
    tb_home(cfg, TB_IP_HOOK);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_reset_cause = cause;
    tb_boot();
    CHECK(tb_slept);
    const char *body = strstr(p->sent, "\r\n\r\n");
    return body ? body + 4 : "";
}

static void test_values_sent(void)
{
    const char *extra = "VALUE2 = '{battery_mv}'\nVALUE3 = 'press {presses} at {rssi} dBm'\n";
    tb_reset();
    tb_supply_mv = 2987;
    CHECK_STR(press(extra, HAL_RESET_DEEPSLEEP),
              "{\"value1\": \"micropython1\", \"value2\": \"2987\", "
              "\"value3\": \"press 1 at -58 dBm\"}");
    /* the next press is number 2; a board that cannot read its supply sends "" */
    tb_wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_supply_mv = -1;
    CHECK_STR(press(extra, HAL_RESET_DEEPSLEEP),
              "{\"value1\": \"micropython1\", \"value2\": \"\", "
              "\"value3\": \"press 2 at -58 dBm\"}");
    /* braces doubled in config.py arrive single */
    tb_wake(HAL_RESET_DEEPSLEEP, 5000);
    CHECK_STR(press("VALUE2 = '{{presses}}'\n", HAL_RESET_DEEPSLEEP),
              "{\"value1\": \"micropython1\", \"value2\": \"{presses}\"}");
}

int main(void)
{
    test_syntax();
    test_malformed();
    test_config_errors_name_the_line();
    test_values_sent();
    return tb_done("test_placeholders");
}
