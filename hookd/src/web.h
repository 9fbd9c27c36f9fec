/*
 * web.h - the web page's files (hookd/web/), embedded into the binary at build time by
 * hookd/web/embed.cmake, and served by http.c at GET / (index.html), /app.js, /style.css.
 */
#ifndef HOOKD_WEB_H
#define HOOKD_WEB_H

#include <stddef.h>

typedef struct {
    const char *path;            /* "/index.html", "/app.js", ...; NULL ends the table */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} hk_web_asset;

extern const hk_web_asset hk_web_assets[];

#endif
