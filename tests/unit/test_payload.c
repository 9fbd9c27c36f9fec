/* test_payload.c - the webhook's JSON body (app/payload.c). */
#include <stdio.h>
#include <string.h>

#include "app/payload.h"
#include "testboard.h"

static bh_config config;

static void parse(const char *extra)
{
    static char text[1024];
    snprintf(text, sizeof text, "%s%s", TB_CONFIG, extra);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &config, NULL, NULL), BH_OK);
}

static void test_chapter_body(void)
{
    const char *body = NULL;
    parse("");
    CHECK_INT(payload_json(&config, &body), (int)strlen("{\"value1\": \"micropython1\"}"));
    CHECK_STR(body, "{\"value1\": \"micropython1\"}");
}

static void test_values_2_and_3(void)
{
    const char *body = NULL;
    parse("VALUE2 = 'say \"hi\"'\nVALUE3 = '3'\n");
    CHECK(payload_json(&config, &body) > 0);
    CHECK_STR(body, "{\"value1\": \"micropython1\", \"value2\": \"say \\\"hi\\\"\", "
                    "\"value3\": \"3\"}");
}

static void test_too_big(void)
{
    char extra[512], q[128];
    const char *body = NULL;
    /* the longest values, each character escaped: twice the buffer */
    memset(q, '"', 127);
    q[127] = 0;
    snprintf(extra, sizeof extra, "BUTTON_ID = '%s'\nVALUE2 = '%s'\n", q, q);
    parse(extra);
    CHECK_INT(payload_json(&config, &body), BH_ERR_TOOBIG);
    CHECK_STR(body, "");
}

int main(void)
{
    test_chapter_body();
    test_values_2_and_3();
    test_too_big();
    return tb_done("test_payload");
}
