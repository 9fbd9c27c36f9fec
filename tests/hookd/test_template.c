/*
 * test_template.c - hookd's ingredient templates: every ingredient, the four escapings,
 * unknown ingredients (message and offset), braces that are only text, OccurredAt in IFTTT's
 * format (TZ=UTC and a fixed offset), the output cap; and the small helpers the actions share
 * (address splitting, quoted results). Exits non-zero on the first failure of each check.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "action_util.h"
#include "hookd.h"

#include "check.h"

static hk_event ev(const char *name, const char *v1, const char *v2, const char *v3,
                   const char *payload, int64_t t)
{
    hk_event e = {0};
    e.name = (char *)name;
    e.value1 = (char *)v1;
    e.value2 = (char *)v2;
    e.value3 = (char *)v3;
    e.payload = (char *)payload;
    e.json = payload != NULL;
    e.occurred_at = t;
    return e;
}

/* Expands and compares with want (NULL: expect an error containing err_part). */
static void expect(const char *tpl, const hk_event *e, hk_escape esc, const char *want,
                   const char *err_part, int line)
{
    char err[256] = "unset";
    char *got = hk_template_expand(tpl, e, esc, err, sizeof err);
    checks++;
    if (want && (!got || strcmp(got, want))) {
        failures++;
        fprintf(stderr, "line %d: template \"%s\" (esc %d)\n  want \"%s\"\n  got  \"%s\" %s\n",
                line, tpl, (int)esc, want, got ? got : "(null)", got ? "" : err);
    } else if (!want && (got || !strstr(err, err_part))) {
        failures++;
        fprintf(stderr, "line %d: template \"%s\": want an error with \"%s\", got \"%s\" / %s\n",
                line, tpl, err_part, got ? got : "(null)", err);
    }
    free(got);
}
#define EXPECT(tpl, e, esc, want) expect(tpl, e, esc, want, NULL, __LINE__)
#define EXPECT_ERR(tpl, part) expect(tpl, &plain, HK_ESC_NONE, NULL, part, __LINE__)

/* The expansion is valid JSON and value "k" equals want. */
static void expect_json(const char *tpl, const hk_event *e, const char *key, const char *want,
                        int line)
{
    char err[256];
    char *got = hk_template_expand(tpl, e, HK_ESC_JSON, err, sizeof err);
    json_error_t je;
    json_t *j = got ? json_loads(got, JSON_DECODE_ANY, &je) : NULL;
    checks++;
    char *val = NULL;
    if (j) {
        json_t *v = json_object_get(j, key);
        val = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    }
    if (!j || !val || strcmp(val, want)) {
        failures++;
        fprintf(stderr, "line %d: template %s\n  expanded %s\n  %s: want %s, got %s\n", line,
                tpl, got ? got : err, j ? "value" : je.text, want, val ? val : "(none)");
    }
    free(val);
    json_decref(j);
    free(got);
}
#define EXPECT_JSON(tpl, e, key, want) expect_json(tpl, e, key, want, __LINE__)

static hk_event plain;

static void test_ingredients(void)
{
    /* 2019-08-23 23:45:00 UTC */
    hk_event e = ev("button_pressed", "one", "two", "three", NULL, 1566603900);
    EXPECT("{{EventName}}|{{Value1}}|{{Value2}}|{{Value3}}|{{OccurredAt}}|{{JsonPayload}}", &e,
           HK_ESC_NONE, "button_pressed|one|two|three|August 23, 2019 at 11:45PM|");
    hk_event j = ev("sensor", NULL, NULL, NULL, "{\"t\":21.5,\"ok\":true}", 1566603900);
    EXPECT("{{EventName}} {{JsonPayload}} [{{Value1}}]", &j, HK_ESC_NONE,
           "sensor {\"t\":21.5,\"ok\":true} []");
    EXPECT("", &e, HK_ESC_NONE, "");
    EXPECT("no ingredients at all", &e, HK_ESC_NONE, "no ingredients at all");
    EXPECT("{{Value1}}{{Value1}}{{Value1}}", &e, HK_ESC_NONE, "oneoneone");
    EXPECT("{{ Value1 }} {{\tValue2}}", &e, HK_ESC_NONE, "one two");
    /* missing values are empty */
    hk_event none = ev("x", NULL, NULL, NULL, NULL, 0);
    EXPECT("[{{Value1}}][{{Value2}}][{{Value3}}][{{JsonPayload}}]", &none, HK_ESC_NONE,
           "[][][][]");
    /* the chapter's edited body line */
    hk_event btn = ev("button_pressed", "micropython1", NULL, NULL, NULL, 1566603900);
    EXPECT("Button: {{Value1}}", &btn, HK_ESC_HTML, "Button: micropython1");
    /* a NULL event expands like an empty one */
    char err[128];
    char *s = hk_template_expand("a{{Value1}}b", NULL, HK_ESC_NONE, err, sizeof err);
    CHECK(s && !strcmp(s, "ab"), "got %s", s ? s : err);
    free(s);
}

static void test_unknown(void)
{
    EXPECT_ERR("Hi {{Vaule1}}!", "unknown ingredient {{Vaule1}} at offset 3 (did you mean "
                                 "{{Value1}}?)");
    EXPECT_ERR("Hi {{Temperature}}!", "unknown ingredient {{Temperature}} at offset 3 (known: "
                                      "{{EventName}} {{Value1}} {{Value2}} {{Value3}} "
                                      "{{OccurredAt}} {{JsonPayload}})");
    EXPECT_ERR("{{value1}}", "unknown ingredient {{value1}} at offset 0 (did you mean {{Value1}}?)");
    EXPECT_ERR("x {{occurred_at}}", "at offset 2 (did you mean {{OccurredAt}}?)");
    EXPECT_ERR("{{Value 2}}", "did you mean {{Value2}}?");
    EXPECT_ERR("ok {{Value1}} then {{Nope}}", "unknown ingredient {{Nope}} at offset 19");
    EXPECT_ERR("{{}}", "unknown ingredient {{}} at offset 0");
    EXPECT_ERR("é{{X}}", "at offset 2");   /* byte offsets */
    EXPECT_ERR("{\"a\":\"{{Value4}}\"}", "unknown ingredient {{Value4}} at offset 6");
    EXPECT_ERR("{{\x01}}", "unknown ingredient {{\\x01}}");

    char err[256];
    CHECK(hk_template_check("{{EventName}} {{Value3}}", err, sizeof err) == 0, "%s", err);
    CHECK(hk_template_check("{{EventNam}}", err, sizeof err) == -1, "no error");
    CHECK(strstr(err, "did you mean {{EventName}}?"), "%s", err);
    CHECK(hk_template_check(NULL, err, sizeof err) == -1, "NULL template accepted");
    /* a tiny error buffer is cut, never overrun */
    char small[12];
    memset(small, 'Z', sizeof small);
    CHECK(hk_template_check("{{Bad}}", small, 8) == -1 && strlen(small) == 7 && small[8] == 'Z',
          "%s", small);
    char *s = hk_template_expand("{{Bad}}", &plain, HK_ESC_NONE, NULL, 0);
    CHECK(s == NULL, "expanded an unknown ingredient with no error buffer");
    /* an out-of-range escaping */
    s = hk_template_expand("x", &plain, (hk_escape)42, err, sizeof err);
    CHECK(!s && strstr(err, "escaping"), "%s", err);
}

static void test_braces(void)
{
    hk_event e = ev("ev", "v", NULL, NULL, NULL, 0);
    EXPECT("{{", &e, HK_ESC_NONE, "{{");
    EXPECT("}}", &e, HK_ESC_NONE, "}}");
    EXPECT("a {{ b", &e, HK_ESC_NONE, "a {{ b");
    EXPECT("{{{Value1}}}", &e, HK_ESC_NONE, "{v}");
    EXPECT("{{{{Value1}}}}", &e, HK_ESC_NONE, "{{v}}");
    EXPECT("{\"a\":{\"b\":1}}", &e, HK_ESC_NONE, "{\"a\":{\"b\":1}}");
    EXPECT("{{Value1\n}}", &e, HK_ESC_NONE, "{{Value1\n}}");   /* not on one line: text */
    EXPECT("{{ {{Value1}}", &e, HK_ESC_NONE, "{{ v");
    EXPECT("{{Value1}", &e, HK_ESC_NONE, "{{Value1}");
    /* more than HK_NAME_SPAN bytes between the braces: text */
    char longt[200];
    snprintf(longt, sizeof longt, "{{%0100d}}", 0);
    EXPECT(longt, &e, HK_ESC_NONE, longt);
}

static void test_json(void)
{
    hk_event e = ev("ev\"il", "say \"hi\"\\ \n\t\x01 é", "42", "true", "{\"k\":[1,2]}", 0);
    /* inside strings: escaped */
    EXPECT("{\"a\":\"{{Value1}}\"}", &e, HK_ESC_JSON,
           "{\"a\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 é\"}");
    EXPECT_JSON("{\"a\":\"{{Value1}}\"}", &e, "a", "\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 é\"");
    EXPECT_JSON("{\"n\":\"{{EventName}}\"}", &e, "n", "\"ev\\\"il\"");
    EXPECT_JSON("{\"p\":\"{{JsonPayload}}\"}", &e, "p", "\"{\\\"k\\\":[1,2]}\"");
    EXPECT_JSON("{\"m\":\"x {{Value1}} y {{Value2}}\"}", &e, "m",
                "\"x say \\\"hi\\\"\\\\ \\n\\t\\u0001 é y 42\"");
    /* outside strings: a JSON value */
    EXPECT("{\"n\":{{Value2}},\"b\":{{Value3}},\"s\":{{Value1}}}", &e, HK_ESC_JSON,
           "{\"n\":42,\"b\":true,\"s\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 é\"}");
    EXPECT_JSON("{\"p\":{{JsonPayload}}}", &e, "p", "{\"k\":[1,2]}");
    EXPECT_JSON("{\"s\":{{Value1}}}", &e, "s", "\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 é\"");
    hk_event none = ev("x", NULL, NULL, NULL, NULL, 0);
    EXPECT("{\"p\":{{JsonPayload}},\"v\":{{Value1}}}", &none, HK_ESC_JSON,
           "{\"p\":null,\"v\":\"\"}");
    /* only strict JSON scalars go unquoted */
    const char *scalars[][2] = {{"0", "0"},         {"-1.5e+3", "-1.5e+3"}, {"null", "null"},
                                {"false", "false"}, {"007", "\"007\""},     {"1.", "\"1.\""},
                                {".5", "\".5\""},   {"1e", "\"1e\""},       {"NaN", "\"NaN\""},
                                {"True", "\"True\""}, {"", "\"\""},        {"1 ", "\"1 \""},
                                {"1e999", "\"1e999\""}, {"99999999999999999999", "\"99999999999999999999\""},
                                {"9223372036854775807", "9223372036854775807"}};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        hk_event s = ev("x", scalars[i][0], NULL, NULL, NULL, 0);
        char want[64];
        snprintf(want, sizeof want, "[%s]", scalars[i][1]);
        EXPECT("[{{Value1}}]", &s, HK_ESC_JSON, want);
    }
    /* a payload that is not JSON is quoted, not pasted */
    hk_event bad = ev("x", NULL, NULL, NULL, "{not json", 0);
    EXPECT_JSON("{\"p\":{{JsonPayload}}}", &bad, "p", "\"{not json\"");
    /* an escaped quote in the template text does not end the string */
    EXPECT("{\"a\":\"q\\\"{{Value2}}\"}", &e, HK_ESC_JSON, "{\"a\":\"q\\\"42\"}");
    EXPECT("[\"\\\\\",{{Value2}}]", &e, HK_ESC_JSON, "[\"\\\\\",42]");
    /* invalid UTF-8 becomes U+FFFD, control characters \u00XX */
    hk_event u = ev("x", "a\xff" "b\xc3(c\xed\xa0\x80" "d\xf4\x90\x80\x80" "e\xe2\x82", "\x1f\x7f", NULL,
                    NULL, 0);
    EXPECT("\"{{Value1}}\"", &u, HK_ESC_JSON,
           "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD(c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
           "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
           "e\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT("\"{{Value2}}\"", &u, HK_ESC_JSON, "\"\\u001f\x7f\"");
    EXPECT_JSON("{\"a\":\"{{Value1}}\",\"b\":{{Value1}}}", &u, "b",
                "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD(c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                "e\xEF\xBF\xBD\xEF\xBF\xBD\"");
    /* 4-byte UTF-8 is kept */
    hk_event emoji = ev("x", "\xF0\x9F\x94\x98 button", NULL, NULL, NULL, 0);
    EXPECT("\"{{Value1}}\"", &emoji, HK_ESC_JSON, "\"\xF0\x9F\x94\x98 button\"");
    /* OccurredAt inside and outside strings */
    hk_event t = ev("x", NULL, NULL, NULL, NULL, 1566603900);
    EXPECT("{\"w\":{{OccurredAt}},\"x\":\"at {{OccurredAt}}\"}", &t, HK_ESC_JSON,
           "{\"w\":\"August 23, 2019 at 11:45PM\",\"x\":\"at August 23, 2019 at 11:45PM\"}");
}

static void test_html_url_none(void)
{
    hk_event e = ev("<b>", "<script>alert('x')</script> & \"q\"", "a b&c/é?=", "\xff", NULL, 0);
    EXPECT("<p>{{Value1}}</p>", &e, HK_ESC_HTML,
           "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>");
    EXPECT("{{EventName}}|{{Value3}}", &e, HK_ESC_HTML, "&lt;b&gt;|\xEF\xBF\xBD");
    EXPECT("https://x.test/p?v={{Value2}}&e={{EventName}}", &e, HK_ESC_URL,
           "https://x.test/p?v=a%20b%26c%2F%C3%A9%3F%3D&e=%3Cb%3E");
    EXPECT("{{Value2}}", &e, HK_ESC_URL, "a%20b%26c%2F%C3%A9%3F%3D");
    hk_event safe = ev("x", "AZaz09-._~", NULL, NULL, NULL, 0);
    EXPECT("{{Value1}}", &safe, HK_ESC_URL, "AZaz09-._~");
    /* none: bytes as they came, invalid UTF-8 included */
    EXPECT("{{Value1}}|{{Value3}}", &e, HK_ESC_NONE,
           "<script>alert('x')</script> & \"q\"|\xff");
    /* template text is never escaped, only values */
    EXPECT("<a href=\"{{Value2}}\">&amp;</a>", &e, HK_ESC_HTML,
           "<a href=\"a b&amp;c/é?=\">&amp;</a>");
}

static void occurred(int64_t t, const char *want, int line)
{
    char out[64];
    hk_occurred_at(t, out, sizeof out);
    checks++;
    if (strcmp(out, want)) {
        failures++;
        fprintf(stderr, "line %d: OccurredAt(%lld): want \"%s\", got \"%s\"\n", line,
                (long long)t, want, out);
    }
}
#define OCCURRED(t, want) occurred(t, want, __LINE__)

static void test_occurred_at(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    OCCURRED(1566603900, "August 23, 2019 at 11:45PM");   /* IFTTT's own example */
    OCCURRED(0, "January 1, 1970 at 12:00AM");             /* midnight is 12 AM */
    OCCURRED(43200, "January 1, 1970 at 12:00PM");         /* noon is 12 PM */
    OCCURRED(43200 - 60, "January 1, 1970 at 11:59AM");
    OCCURRED(1709629500, "March 5, 2024 at 09:05AM");      /* day unpadded, hour padded */
    OCCURRED(1709672700, "March 5, 2024 at 09:05PM");
    OCCURRED(1704067199, "December 31, 2023 at 11:59PM");
    OCCURRED(1582934400, "February 29, 2020 at 12:00AM");
    OCCURRED(1696118400 + 3600 * 13 + 60 * 7, "October 1, 2023 at 01:07PM");
    const char *months[] = {"January", "February", "March",     "April",   "May",      "June",
                            "July",    "August",   "September", "October", "November", "December"};
    for (int m = 0; m < 12; m++) {
        struct tm tm = {.tm_year = 2021 - 1900, .tm_mon = m, .tm_mday = 15, .tm_hour = 6};
        char want[64];
        snprintf(want, sizeof want, "%s 15, 2021 at 06:00AM", months[m]);
        OCCURRED(timegm(&tm), want);
    }
    /* local time: a zone two hours east of UTC (POSIX TZ syntax, no tz database needed) */
    setenv("TZ", "XYZ-2", 1);
    tzset();
    OCCURRED(1566603900, "August 24, 2019 at 01:45AM");
    setenv("TZ", "ABC+5", 1);
    tzset();
    OCCURRED(1566603900, "August 23, 2019 at 06:45PM");
    setenv("TZ", "UTC", 1);
    tzset();
    /* small buffers are cut, not overrun; cap 0 writes nothing */
    char small[10];
    hk_occurred_at(1566603900, small, sizeof small);
    CHECK(!strcmp(small, "August 23"), "%s", small);
    char untouched = 'U';
    hk_occurred_at(1566603900, &untouched, 0);
    CHECK(untouched == 'U', "cap 0 wrote");
}

static void test_cap(void)
{
    /* 64 KB payload x 20 = over HK_TEMPLATE_OUTPUT_MAX (1 MB): an error, not a huge string */
    char *big = malloc(64 * 1024 + 1);
    memset(big, 'a', 64 * 1024);
    big[64 * 1024] = 0;
    hk_event e = ev("x", big, NULL, NULL, NULL, 0);
    char tpl[20 * 10 + 1] = "";
    for (int i = 0; i < 20; i++)
        strcat(tpl, "{{Value1}}");
    char err[256];
    char *s = hk_template_expand(tpl, &e, HK_ESC_NONE, err, sizeof err);
    CHECK(!s && strstr(err, "over"), "%s", s ? "expanded" : err);
    free(s);
    s = hk_template_expand("{{Value1}}{{Value1}}", &e, HK_ESC_NONE, err, sizeof err);
    CHECK(s && strlen(s) == 128 * 1024, "%s", s ? "wrong length" : err);
    free(s);
    free(big);
}

static void test_helpers(void)
{
    char **v = NULL;
    int n = hka_mail_split(" a@x.test, \"Doe, J\" <j@d.test>; ,b@y.test ", &v);
    CHECK(n == 3 && !strcmp(v[0], "a@x.test") && !strcmp(v[1], "\"Doe, J\" <j@d.test>") &&
              !strcmp(v[2], "b@y.test") && v[3] == NULL,
          "n=%d", n);
    char *a = hka_mail_addr(v[1]);
    CHECK(a && !strcmp(a, "j@d.test"), "%s", a ? a : "(null)");
    free(a);
    hka_strv_free(v);
    const char *bad[] = {"", "nobody", "@x", "a@", "a b@x", "<a@x", "a@x>\r\nRCPT TO:<b@y>",
                         "\"q\"@x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = hka_mail_addr(bad[i]);
        CHECK(a == NULL, "accepted \"%s\" as %s", bad[i], a);
        free(a);
    }

    char r[24] = "x: ";
    hka_result_append_quoted(r, sizeof r, "line1\nline2 and a lot more text", 31);
    CHECK(!strcmp(r, "x: \"line1\\nline2 an...\""), "%s", r);
    char r2[32] = "";
    hka_result_append_quoted(r2, sizeof r2, "short", 5);
    CHECK(!strcmp(r2, "\"short\""), "%s", r2);
    char r3[16] = "";
    hka_result_append_quoted(r3, sizeof r3, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 16);
    CHECK(!strcmp(r3, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\""), "%s", r3);
    char line[64];
    hka_result(line, sizeof line, "a\nb\rc%s", "\td");
    CHECK(!strcmp(line, "a b c d"), "%s", line);

    /* the event as JSON lines and as stdin */
    hk_event e = ev("ev", "v\xff", NULL, "3", NULL, 1566603900);
    char *j = hka_event_json(&e);
    CHECK(j && !strcmp(j, "{\"event\":\"ev\",\"value1\":\"v\xEF\xBF\xBD\",\"value2\":\"\","
                          "\"value3\":\"3\",\"occurred_at\":\"August 23, 2019 at 11:45PM\"}"),
          "%s", j);
    free(j);
    j = hka_event_stdin(&e);
    CHECK(j && !strcmp(j, "{\"value1\":\"v\xEF\xBF\xBD\",\"value2\":\"\",\"value3\":\"3\"}"),
          "%s", j);
    free(j);
    hk_event p = ev("ev", NULL, NULL, NULL, "[1,{\"a\":2}]", 0);
    j = hka_event_json(&p);
    CHECK(j && strstr(j, "\"payload\":[1,{\"a\":2}]"), "%s", j);
    free(j);
    j = hka_event_stdin(&p);
    CHECK(j && !strcmp(j, "[1,{\"a\":2}]"), "%s", j);
    free(j);
}

static void test_actions_table(void)
{
    const char *names[] = {"email", "maildir", "http", "mqtt", "command", "file"};
    for (size_t i = 0; i < 6; i++) {
        const hk_action *a = hk_action_find(names[i]);
        CHECK(a && !strcmp(a->name, names[i]) && a->validate && a->run, "%s", names[i]);
    }
    CHECK(hk_action_find("sms") == NULL && hk_action_find(NULL) == NULL, "unknown found");
    /* validate() names the field at fault */
    struct {
        const char *action, *fields, *want;
    } bad[] = {
        {"email", "[]", "fields must be a JSON object"},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"a@b\"}", "field \"to\" is required"},
        {"email", "{\"url\":\"http://h\",\"from\":\"a@b\",\"to\":\"c@d\"}", "field \"url\""},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"a@b\",\"to\":\"c@d\",\"subjet\":\"x\"}",
         "unknown field \"subjet\""},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"a@b\",\"to\":\"c@d\",\"subject\":\"{{X}}\"}",
         "field \"subject\": unknown ingredient {{X}} at offset 0"},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"nobody\",\"to\":\"c@d\"}", "field \"from\""},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"a@b\",\"to\":[]}", "field \"to\""},
        {"email", "{\"url\":\"smtp://mail.test\",\"from\":\"a@b\",\"to\":\"c@d\","
                  "\"username\":\"u\",\"password\":\"p\"}", "field \"starttls\""},
        {"email", "{\"url\":\"smtp://h\",\"from\":\"a@b\",\"to\":\"c@d\",\"timeout\":0}",
         "field \"timeout\" must be between"},
        {"maildir", "{\"path\":\"relative/Maildir\"}", "field \"path\" must be an absolute"},
        {"maildir", "{}", "field \"path\" is required"},
        {"http", "{\"url\":\"ftp://x\"}", "field \"url\" must start with http"},
        {"http", "{\"url\":\"http://x\",\"method\":\"BREW\"}", "field \"method\""},
        {"http", "{\"url\":\"http://x\",\"method\":\"GET\",\"body\":\"b\"}", "field \"body\""},
        {"http", "{\"url\":\"http://x\",\"headers\":{\"Bad Name\":\"v\"}}", "field \"headers\""},
        {"http", "{\"url\":\"http://x\",\"headers\":{\"X\":1}}", "field \"headers\" must be"},
        {"http", "{\"url\":\"http://x\",\"headers\":{\"X\":\"{{Y}}\"}}", "field \"headers.X\""},
        {"http", "{\"url\":\"http://x\",\"headers\":{\"idempotency-key\":\"k\"}}",
         "Idempotency-Key is set by hookd"},
        {"http", "{\"url\":\"http://x\",\"escape\":\"xml\"}", "field \"escape\""},
        {"mqtt", "{\"host\":\"h\",\"topic\":\"a/#\"}", "field \"topic\""},
        {"mqtt", "{\"host\":\"h\",\"topic\":\"t\",\"qos\":3}", "field \"qos\" must be between"},
        {"mqtt", "{\"host\":\"h\",\"topic\":\"t\",\"port\":\"1883\"}", "field \"port\" must be"},
        {"mqtt", "{\"topic\":\"t\"}", "field \"host\" is required"},
        {"command", "{\"argv\":\"/bin/true\"}", "field \"argv\" must be a non-empty list"},
        {"command", "{\"argv\":[]}", "field \"argv\" must be a non-empty list"},
        {"command", "{\"argv\":[\"\"]}", "field \"argv\""},
        {"command", "{\"argv\":[\"/bin/echo\",\"{{Value9}}\"]}", "field \"argv\": unknown"},
        {"command", "{\"argv\":[\"/bin/true\"],\"retry_on_failure\":\"yes\"}",
         "field \"retry_on_failure\" must be true or false"},
        {"file", "{\"path\":\"x.jsonl\"}", "field \"path\" must be an absolute"},
        {"file", "{\"path\":\"/tmp/x\",\"fsync\":1}", "field \"fsync\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *f = json_loads(bad[i].fields, JSON_DECODE_ANY, NULL);
        char err[512] = "";
        const hk_action *a = hk_action_find(bad[i].action);
        int rc = a->validate(f, err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad[i].want) && !strncmp(err, bad[i].action,
                                                               strlen(bad[i].action)),
              "%s %s: rc %d, \"%s\"", bad[i].action, bad[i].fields, rc, err);
        json_decref(f);
    }
    const char *good[][2] = {
        {"email", "{\"url\":\"smtps://mail.test:465\",\"from\":\"Me <a@b.test>\","
                  "\"to\":[\"c@d.test\",\"{{Value1}}\"],\"username\":\"u\",\"password\":\"p\"}"},
        {"email", "{\"url\":\"smtp://localhost:25\",\"from\":\"a@b\",\"to\":\"c@d, e@f\","
                  "\"subject\":\"{{EventName}}\",\"html\":false}"},
        {"maildir", "{\"path\":\"/var/mail/hookd\"}"},
        {"http", "{\"url\":\"https://x.test/{{EventName}}\",\"headers\":{\"X-A\":\"{{Value1}}\"},"
                 "\"body\":\"{\\\"v\\\":\\\"{{Value1}}\\\"}\",\"timeout\":5}"},
        {"mqtt", "{\"host\":\"h\",\"topic\":\"buttons/{{EventName}}\",\"qos\":2,\"retain\":true}"},
        {"command", "{\"argv\":[\"notify-send\",\"{{Value1}}\"],\"timeout\":3}"},
        {"file", "{\"path\":\"/var/log/hookd/{{EventName}}.jsonl\"}"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_t *f = json_loads(good[i][1], 0, NULL);
        char err[512] = "";
        int rc = f ? hk_action_find(good[i][0])->validate(f, err, sizeof err) : -2;
        CHECK(rc == 0, "%s %s: %s", good[i][0], good[i][1], err);
        json_decref(f);
    }
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_ingredients();
    test_unknown();
    test_braces();
    test_json();
    test_html_url_none();
    test_occurred_at();
    test_cap();
    test_helpers();
    test_actions_table();
    printf("test_template: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
