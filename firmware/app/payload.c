/* payload.c - the webhook's JSON body (payload.h). */
#include "app/payload.h"
#include "net/json.h"

int payload_json(const bh_config *c, const char **body)
{
    static char buf[PAYLOAD_MAX];
    json_writer w;
    json_begin(&w, buf, sizeof buf);
    json_str(&w, "value1", c->button_id);
    if (cfg_has(c, VALUE2))
        json_str(&w, "value2", c->value2);
    if (cfg_has(c, VALUE3))
        json_str(&w, "value3", c->value3);
    *body = buf;
    return json_end(&w);
}
