/*
 * payload.h - the webhook's JSON body: the chapter's {"value1": BUTTON_ID}, and VALUE2 and
 * VALUE3 from config.py when set (IFTTT's Maker Webhooks take three values).
 */
#ifndef BH_PAYLOAD_H
#define BH_PAYLOAD_H

#include "app/config.h"

/* Writes the body for c into a static buffer, *body pointing at it. Returns its length, or
 * BH_ERR_TOOBIG (then *body is ""). */
int payload_json(const bh_config *c, const char **body);

/* The buffer's size: the most a body can be. */
#define PAYLOAD_MAX (3 * BH_CFG_STR_MAX + 64)

#endif
