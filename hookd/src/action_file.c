/*
 * action_file.c - appends the event as one JSON line to a file (JSON Lines: one object a
 * line, jq-friendly):
 *   {"event":"button_pressed","value1":"...","value2":"","value3":"","occurred_at":"..."}
 * plus "payload" for JSON triggers.
 *
 * The line goes out in one write() on an O_APPEND descriptor, so lines from concurrent
 * deliveries (or other processes appending the same way) never interleave; then fdatasync,
 * so an OK means the line is on disk. The path may hold ingredients
 * ("/var/log/hookd/{{EventName}}.jsonl"); a value cannot climb out with "..".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_util.h"
#include "hookd.h"

static const hka_field file_fields[] = {
    {"path", HKA_TEMPLATE, true, 0, 0},
    {"fsync", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

/* A ".." path component, which a value could use to write elsewhere. */
static bool climbs(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
            return true;
    return false;
}

static int file_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, file_fields, "file", err, errcap))
        return -1;
    if (hka_get_str(fields, "path", "")[0] != '/') {
        snprintf(err, errcap, "file: field \"path\" must be an absolute path");
        return -1;
    }
    /* a literal ".." would fail at every delivery (file_run refuses it after expansion), so
     * it is refused when the applet is saved */
    if (climbs(hka_get_str(fields, "path", ""))) {
        snprintf(err, errcap, "file: field \"path\" has a \"..\" component: give the path "
                              "without it");
        return -1;
    }
    return 0;
}

static hk_action_status file_run(const json_t *fields, const hk_event *e,
                                 const char *idempotency_key, char *result, size_t cap)
{
    (void)idempotency_key;
    char err[512];
    if (file_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    char *path = hka_expand(fields, "path", NULL, e, HK_ESC_NONE, err, sizeof err);
    if (!path) {
        hka_result(result, cap, "file: %s", err);
        return HK_ACTION_FAIL;
    }
    hk_action_status st = HK_ACTION_FAIL;
    char *line = NULL;
    int fd = -1;
    if (climbs(path)) {
        hka_result(result, cap, "file: failed: the path \"%.200s\" has a \"..\" component", path);
        goto out;
    }
    char *json = hka_event_json(e);
    if (json) {
        size_t n = strlen(json);
        line = realloc(json, n + 2);
        if (!line)
            free(json);
        else {
            line[n] = '\n';
            line[n + 1] = 0;
        }
    }
    if (!line) {
        hka_result(result, cap, "file: will retry: out of memory");
        st = HK_ACTION_RETRY;
        goto out;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    const char *step = "open";
    if (fd >= 0) {
        size_t len = strlen(line);
        ssize_t w = write(fd, line, len);
        step = "append to";
        if (w == (ssize_t)len) {
            step = "sync";
            if (!hka_get_bool(fields, "fsync", true) || fdatasync(fd) == 0) {
                hka_result(result, cap, "file: appended %zu bytes to %.300s", len, path);
                st = HK_ACTION_OK;
                goto out;
            }
        } else if (w >= 0) {
            /* a short write (disk full): the line is cut; the next line starts clean */
            errno = ENOSPC;
            if (write(fd, "\n", 1) < 0) {
                /* nothing more to do */
            }
        }
    }
    int saved = errno;
    st = saved == EACCES || saved == EPERM || saved == ENOENT || saved == ENOTDIR ||
                 saved == EISDIR || saved == EROFS || saved == ELOOP || saved == ENAMETOOLONG
             ? HK_ACTION_FAIL
             : HK_ACTION_RETRY;
    hka_result(result, cap, "file: %s: cannot %s %.300s: %s",
               st == HK_ACTION_RETRY ? "will retry" : "failed", step, path, strerror(saved));
out:
    if (fd >= 0)
        close(fd);
    free(line);
    free(path);
    return st;
}

const hk_action hk_action_file = {"file", file_validate, file_run};
