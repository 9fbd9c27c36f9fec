/* event.c - the event's life cycle (declared in hookd.h). */
#define _GNU_SOURCE
#include "hookd.h"

#include <stdlib.h>
#include <string.h>

void hk_event_clear(hk_event *e)
{
    free(e->name);
    free(e->value1);
    free(e->value2);
    free(e->value3);
    free(e->payload);
    free(e->source_ip);
    memset(e, 0, sizeof *e);
}

void hk_event_free(hk_event *e)
{
    if (!e)
        return;
    hk_event_clear(e);
    free(e);
}
