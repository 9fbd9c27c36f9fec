/*
 * action_maildir.c - delivers the email action's message into a Maildir folder, so mail
 * works with no mail server (any mail client, mutt -f, or Dovecot reads it).
 *
 * Delivery as the Maildir convention has it: write tmp/<unique>, fsync it, rename it into
 * new/<unique>, fsync new/. A reader never sees half a message, and once run() says OK the
 * message survives a power cut. Unique names are "<sec>.M<usec>P<pid>Q<n>.<host>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "action_util.h"
#include "hookd.h"

static const hka_field maildir_fields[] = {
    {"path", HKA_STRING, true, 0, 0},
    {"from", HKA_TEMPLATE, false, 0, 0},
    {"to", HKA_TEMPLATES, false, 0, 0},
    {"subject", HKA_TEMPLATE, false, 0, 0},
    {"body", HKA_TEMPLATE, false, 0, 0},
    {"html", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

#define DEFAULT_FROM "hookd <hookd@localhost>"

static int maildir_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, maildir_fields, "maildir", err, errcap))
        return -1;
    const char *path = hka_get_str(fields, "path", "");
    if (path[0] != '/') {
        snprintf(err, errcap, "maildir: field \"path\" must be an absolute path");
        return -1;
    }
    return 0;
}

/* Errors a later attempt may not see again (a full disk, an I/O hiccup) are worth a retry;
 * permissions and wrong paths are not. */
static hk_action_status errno_status(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
    case ENOTDIR:
    case EROFS:
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
        return HK_ACTION_FAIL;
    default:
        return HK_ACTION_RETRY;
    }
}

/* mkdir -p for the Maildir and its three folders. */
static int make_dirs(const char *root)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", root) >= (int)sizeof p - 8) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(p, 0700) && errno != EEXIST)
        return -1;
    size_t n = strlen(p);
    static const char *const subs[] = {"/tmp", "/new", "/cur"};
    for (int i = 0; i < 3; i++) {
        memcpy(p + n, subs[i], 5);
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
    }
    return 0;
}

static void unique_name(char *out, size_t cap)
{
    static atomic_uint seq;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char host[256] = "localhost", clean[1024];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    /* '/' and ':' are special in Maildir names */
    size_t o = 0;
    for (const char *h = host; *h && o + 5 < sizeof clean; h++) {
        if (*h == '/')
            o += (size_t)snprintf(clean + o, sizeof clean - o, "\\057");
        else if (*h == ':')
            o += (size_t)snprintf(clean + o, sizeof clean - o, "\\072");
        else
            clean[o++] = *h;
    }
    clean[o] = 0;
    snprintf(out, cap, "%lld.M%ldP%dQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
             (int)getpid(), atomic_fetch_add(&seq, 1) + 1, clean);
}

static hk_action_status maildir_run(const json_t *fields, const hk_event *e,
                                    const char *idempotency_key, char *result, size_t cap)
{
    char err[512];
    if (maildir_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    const char *root = hka_get_str(fields, "path", "");
    char *msg = hka_mail_build(fields, e, idempotency_key, DEFAULT_FROM, "\n", err, sizeof err);
    if (!msg) {
        hka_result(result, cap, "maildir: %s", err);
        return HK_ACTION_FAIL;
    }
    hk_action_status st = HK_ACTION_OK;
    char name[1200], tmp[4096 + 1300], dst[4096 + 1300], dir[4096 + 8];
    int fd = -1;
    const char *step = "";
    unique_name(name, sizeof name);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", root, name);
    snprintf(dst, sizeof dst, "%s/new/%s", root, name);
    snprintf(dir, sizeof dir, "%s/new", root);

    step = "create the folders";
    if (make_dirs(root))
        goto fail;
    step = "create the file in tmp/";
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    step = "write";
    size_t len = strlen(msg), off = 0;
    while (off < len) {
        ssize_t w = write(fd, msg + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            goto fail_unlink;
        }
        off += (size_t)w;
    }
    step = "fsync";
    if (fsync(fd))
        goto fail_unlink;
    close(fd);
    fd = -1;
    step = "move it into new/";
    if (rename(tmp, dst))
        goto fail_unlink;
    step = "fsync new/";
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd)) {
        int saved = errno;
        if (dfd >= 0)
            close(dfd);
        errno = saved;
        goto fail;   /* the message is in new/ already: a retry may deliver it twice */
    }
    close(dfd);
    hka_result(result, cap, "maildir: delivered %s", dst);
    free(msg);
    return HK_ACTION_OK;

fail_unlink: {
    int saved = errno;
    if (fd >= 0)
        close(fd);
    fd = -1;
    unlink(tmp);
    errno = saved;
}
fail: {
    int saved = errno;
    if (fd >= 0)
        close(fd);
    st = errno_status(saved);
    hka_result(result, cap, "maildir: %s: cannot %s: %s", st == HK_ACTION_RETRY ?
               "will retry" : "failed", step, strerror(saved));
}
    free(msg);
    return st;
}

const hk_action hk_action_maildir = {"maildir", maildir_validate, maildir_run};
