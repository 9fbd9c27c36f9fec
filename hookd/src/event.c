/* event.c - the event's life cycle (declared in hookd.h). */
#define _GNU_SOURCE
#include "hookd.h"

#include <stdlib.h>

void hk_event_free(hk_event *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->value1);
    free(e->value2);
    free(e->value3);
    free(e->payload);
    free(e->source_ip);
    free(e);
}
