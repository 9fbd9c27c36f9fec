/*
 * main.c - hookd's command line, start and stop.
 *
 *   start:  config -> data folder (locked) -> store -> key, admin password, applets from the
 *           config -> deliveries left running go back to pending -> workers, group-commit
 *           writer, HTTP front
 *   SIGTERM/SIGINT: stop accepting, answer what is in flight (every event queued for the
 *           group commit is committed), let running deliveries finish (bounded), exit 0
 *   SIGHUP, and every 2 s: read the key and the admin password again from the store (the
 *           `key --rotate` and `password` subcommands may have changed them)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "hookd.h"
#include "http.h"
#include "log.h"
#include "secret.h"

#define HOOKD_VERSION "0.1.0"
#define HOUSEKEEPING_S 2
#define PRUNE_EVERY_S 3600
#define DRAIN_MS 3000   /* SIGTERM waits this long for requests already begun */

static const char usage[] =
    "hookd - a self-hosted server for IFTTT Maker Webhooks URLs that runs applets\n"
    "\n"
    "usage:\n"
    "  hookd --data DIR [--listen ADDR:PORT] [--config FILE]   serve\n"
    "  hookd --store URL [--listen ADDR:PORT] [--config FILE]  serve from PostgreSQL\n"
    "  hookd key --data DIR [--rotate]          print the trigger key (or make a new one);\n"
    "                                           the store must exist\n"
    "  hookd password --data DIR                set the admin password (read from stdin)\n"
    "  (key and password take --store URL too)\n"
    "  hookd --help | --version\n"
    "\n"
    "options:\n"
    "  --data DIR          the data folder (made if missing): the store hookd.db and its lock\n"
    "  --store URL         postgresql://USER:PASS@HOST:PORT/DB (libpq's URI): a store that\n"
    "                      several hookd instances share (see docs/postgresql.md)\n"
    "  --listen ADDR:PORT  where to serve, default 127.0.0.1:8080 (port 0: any free port);\n"
    "                      overrides the config's \"listen\"\n"
    "  --config FILE       a JSON config: listen, key, admin_password, limits, deliveries,\n"
    "                      retention_days, applets (see docs/hookd.md)\n"
    "\n"
    "Triggers: POST or GET http://ADDR:PORT/trigger/{event}/with/key/{key}\n"
    "          (and /trigger/{event}/json/with/key/{key}), as IFTTT's Maker Webhooks.\n"
    "Logs go to stderr, one line per event; keys are shown as their first 4 characters.\n";

static int make_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* --data DIR, or --store postgresql://...: how to name it back to the user (no password) */
static const char *store_opt = "--data";
static char store_shown[1024];

static hk_store *open_store(const char *dir)
{
    if (!hk_store_is_url(dir) && make_dir(dir) != 0) {
        fprintf(stderr, "hookd: cannot make the data folder %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    char err[512];
    hk_store *s = hk_store_open(dir, err, sizeof err);
    if (!s)
        fprintf(stderr, "hookd: %s\n", err);
    return s;
}

/* The settings that the config of the hookd serving this store pins ("key",
 * "admin_password"), as it wrote them at its start: the CLI refuses to change those, since the
 * server would put the file's value back at its next start. */
#define PINNED_SETTING "pinned_by_config"

static bool pinned_in_store(hk_store *s, const char *name)
{
    char *v = NULL;
    bool pinned = false;
    if (hk_store_setting_get(s, PINNED_SETTING, &v) == HK_OK && v) {
        size_t n = strlen(name);
        for (const char *p = strstr(v, name); p && !pinned; p = strstr(p + 1, name))
            pinned = (p == v || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ');
    }
    free(v);
    if (pinned)
        fprintf(stderr, "hookd: \"%s\" is pinned by the config file of the hookd that serves "
                        "%s: change it there (and restart that hookd); a change here would be "
                        "undone at its next start\n",
                name, store_shown);
    return pinned;
}

static int cmd_key(const char *dir, bool rotate)
{
    /* a typo in --data must not make a new store with a new key that nothing uses */
    if (!hk_store_is_url(dir)) {
        char db[4200];
        struct stat st;
        snprintf(db, sizeof db, "%s/hookd.db", dir);
        if (stat(db, &st) != 0) {
            fprintf(stderr, "hookd: there is no store in %s (no hookd.db there): check the "
                            "path, or start `hookd --data %s` once to make one\n",
                    dir, dir);
            return 1;
        }
    }
    hk_store *s = open_store(dir);
    if (!s)
        return 1;
    char key[HK_KEY_MAX + 1], err[256];
    bool created;
    int rc = 0;
    if (rotate && pinned_in_store(s, "key")) {
        rc = 1;
    } else if (rotate) {
        char fresh[HK_KEY_LEN + 1];
        if (hk_key_new(fresh) != 0 || hk_store_setting_set(s, "key", fresh) != HK_OK) {
            fprintf(stderr, "hookd: cannot store a new key\n");
            rc = 1;
        } else {
            printf("%s\n", fresh);
            fprintf(stderr, "hookd: the key was rotated; a running hookd uses it within %d "
                            "seconds (unless its config pins \"key\")\n",
                    HOUSEKEEPING_S);
        }
    } else if (hk_key_ensure(s, NULL, key, &created, err, sizeof err) != 0) {
        fprintf(stderr, "hookd: %s\n", err);
        rc = 1;
    } else {
        printf("%s\n", key);
    }
    hk_store_close(s);
    return rc;
}

static int cmd_password(const char *dir)
{
    char pw[512];
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "new admin password: ");
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *got = fgets(pw, sizeof pw, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (!got) {
        fprintf(stderr, "hookd: no password on stdin\n");
        return 2;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    if (strlen(pw) < HK_PASSWORD_MIN) {
        fprintf(stderr, "hookd: the password must have at least %d characters\n",
                HK_PASSWORD_MIN);
        return 2;
    }
    hk_store *s = open_store(dir);
    if (!s)
        return 1;
    if (pinned_in_store(s, "admin_password")) {
        memset(pw, 0, sizeof pw);
        hk_store_close(s);
        return 1;
    }
    int rc = hk_auth_store_password(s, pw);
    memset(pw, 0, sizeof pw);
    hk_store_close(s);
    if (rc != 0) {
        fprintf(stderr, "hookd: cannot store the password\n");
        return 1;
    }
    fprintf(stderr, "hookd: admin password set; a running hookd uses it within %d seconds "
                    "(unless its config pins \"admin_password\")\n",
            HOUSEKEEPING_S);
    return 0;
}

/* The admin password at start: the config's, else the stored one, else a new random one
 * (into made[17], for main to print once; else made is ""). */
static int setup_password(hk_app *app, char *made)
{
    made[0] = '\0';
    char *stored = NULL;
    int rc = hk_store_setting_get(app->store, "admin_password", &stored);
    if (rc != HK_OK && rc != HK_E_NOTFOUND) {
        hk_log("cannot read the admin password from the store");
        return -1;
    }
    if (app->cfg.admin_password) {
        if (strlen(app->cfg.admin_password) < HK_PASSWORD_MIN) {
            hk_log("the config's admin_password must have at least %d characters",
                   HK_PASSWORD_MIN);
            free(stored);
            return -1;
        }
        if (!stored || !hk_password_check(app->cfg.admin_password, stored))
            rc = hk_auth_store_password(app->store, app->cfg.admin_password);
        else
            rc = 0;
    } else if (!stored) {
        char token[HK_TOKEN_LEN + 1];
        rc = hk_token_new(token);
        if (rc == 0) {
            snprintf(made, 17, "%.16s", token);
            rc = hk_auth_store_password(app->store, made);
        }
        memset(token, 0, sizeof token);
    } else {
        rc = 0;
    }
    free(stored);
    if (rc != 0)
        hk_log("cannot store the admin password");
    return rc == 0 && hk_auth_reload(app->auth) == 0 ? 0 : -1;
}

static void prune(hk_app *app)
{
    if (app->cfg.retention_days == 0)
        return;
    int64_t before = (int64_t)time(NULL) - (int64_t)app->cfg.retention_days * 86400;
    int64_t n = 0;
    if (hk_store_prune(app->store, before, &n) == HK_OK && n > 0)
        hk_log("retention: deleted %lld events older than %u days", (long long)n,
               app->cfg.retention_days);
}

static int serve(hk_config *cfg, const char *dir)
{
    static hk_app app;   /* static: threads may outlive serve() when a delivery hangs */
    int lockfd = -1;
    char err[600], bound[128], key[HK_KEY_MAX + 1], m[16], made[17] = "";
    bool created;
    int exitcode = 1;
    hk_http *http = NULL;
    int listen_fd = -1, family = 0;

    app.cfg = *cfg;
    app.data_dir = store_shown;
    pthread_mutex_init(&app.key_mu, NULL);
    hk_command_max_concurrent = cfg->command_max_concurrent;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* before any thread: they inherit it */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);   /* a file size limit is an error to report, not a death */

    /* the address first: a wrong or busy one fails before anything is made */
    listen_fd = hk_http_listen(cfg->listen, &family, bound, sizeof bound, err, sizeof err);
    if (listen_fd < 0) {
        hk_log("%s", err);
        return 1;
    }
    app.store = open_store(dir);
    if (!app.store)
        goto out;
    char lockpath[4200];
    snprintf(lockpath, sizeof lockpath, "%s/hookd.lock", dir);
    /* one server per data folder; several instances may share one PostgreSQL */
    if (!hk_store_is_url(dir) &&
        ((lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
         flock(lockfd, LOCK_EX | LOCK_NB) != 0)) {
        hk_log("another hookd serves %s already (cannot lock %s)", dir, lockpath);
        goto out;
    }
    if (hk_key_ensure(app.store, cfg->key, key, &created, err, sizeof err) != 0) {
        hk_log("%s", err);
        exitcode = 2;
        goto out;
    }
    hk_app_set_key(&app, key);
    if (created)
        hk_log("made a new key %s; print it with: hookd key %s %s",
               hk_mask(key, m, sizeof m), store_opt, store_shown);
    app.auth = hk_auth_new(app.store);
    app.per_ip = hk_limiter_new(cfg->per_ip.rate, cfg->per_ip.burst);
    app.per_key = hk_limiter_new(cfg->per_key.rate, cfg->per_key.burst);
    app.login = hk_login_new(&cfg->login);
    if (!app.auth || !app.per_ip || !app.per_key || !app.login || setup_password(&app, made) != 0)
        goto out;
    char pinned[64];
    snprintf(pinned, sizeof pinned, "%s%s%s", cfg->key ? "key" : "",
             cfg->key && cfg->admin_password ? " " : "",
             cfg->admin_password ? "admin_password" : "");
    if (hk_store_setting_set(app.store, PINNED_SETTING, pinned) != HK_OK) {
        hk_log("cannot store which settings the config pins");
        goto out;
    }
    if (cfg->applets && hk_applets_seed(app.store, cfg->applets, err, sizeof err) != 0) {
        hk_log("config: %s", err);
        exitcode = 2;
        goto out;
    }
    int recovered = 0;
    int64_t pending = 0, running = 0, failed = 0;
    hk_store_delivery_recover(app.store, &recovered);
    hk_store_delivery_counts(app.store, &pending, &running, &failed);
    prune(&app);

    app.workers = hk_workers_start(app.store, cfg);
    if (!app.workers || hk_store_start(app.store) != HK_OK) {
        hk_log("cannot start the workers");
        goto out;
    }
    http = hk_http_start(&app, listen_fd, family, err, sizeof err);
    listen_fd = -1;
    if (!http) {
        hk_log("%s", err);
        goto out;
    }
    if (made[0]) {
        /* shown this once, before the "listening" line that scripts wait for */
        fprintf(stderr,
                "hookd: first start: the admin password for http://%s/ and /api/ is\n"
                "\n    %s\n\n"
                "hookd: it is shown only this once. Change it in the web page's Settings, with\n"
                "hookd:   hookd password %s %s\n"
                "hookd: or pin one with \"admin_password\" in the config file.\n",
                bound, made, store_opt, store_shown);
        memset(made, 0, sizeof made);
    }

    hk_log_start();   /* from here on, log lines are written in batches (log.h) */
    hk_log("listening on http://%s (%s %s, key %s, %u HTTP thread%s, %lld deliveries to "
           "resume%s)", bound, hk_store_kind(app.store), store_shown,
           hk_mask(key, m, sizeof m), app.cfg.http_threads, app.cfg.http_threads == 1 ? "" : "s",
           (long long)pending,
           recovered ? ", some interrupted" : "");

    time_t last_prune = time(NULL);
    for (;;) {
        struct timespec ts = {HOUSEKEEPING_S, 0};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        hk_app_reload(&app);
        if (time(NULL) - last_prune >= PRUNE_EVERY_S) {
            prune(&app);
            last_prune = time(NULL);
        }
    }

    hk_log("stopping: no new connections; finishing requests in flight");
    atomic_store(&app.closing, true);   /* new requests on open connections: 503 */
    hk_http_quiesce(http);
    if (!hk_http_drain(http, DRAIN_MS))
        hk_log("requests still in progress after %d ms are cut off", DRAIN_MS);
    hk_store_stop(app.store);   /* commits every queued event and resumes its connection */
    hk_login_stop(app.login);   /* answers the logins queued (their connections resume) */
    hk_http_stop(http);
    http = NULL;
    if (!hk_workers_stop(app.workers, cfg->shutdown_timeout_s)) {
        hk_log("stopped; deliveries still running after %u s will run again at the next start",
               cfg->shutdown_timeout_s);
        hk_log_stop();
        fflush(stderr);
        _exit(0);
    }
    app.workers = NULL;
    hk_actions_shutdown();   /* no action runs any more: close what they keep open */
    hk_log("stopped");
    exitcode = 0;
out:
    if (listen_fd >= 0)
        close(listen_fd);
    if (http) {
        atomic_store(&app.closing, true);
        hk_http_quiesce(http);
        hk_store_stop(app.store);
        hk_login_stop(app.login);
        hk_http_stop(http);
    }
    if (app.workers && !hk_workers_stop(app.workers, cfg->shutdown_timeout_s)) {
        hk_log_stop();
        _exit(exitcode);
    }
    hk_log_stop();
    hk_store_close(app.store);
    hk_auth_free(app.auth);
    hk_limiter_free(app.per_ip);
    hk_limiter_free(app.per_key);
    hk_login_free(app.login);
    if (lockfd >= 0)
        close(lockfd);
    pthread_mutex_destroy(&app.key_mu);
    return exitcode;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *config = NULL, *listen = NULL, *cmd = NULL, *store = NULL;
    bool rotate = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("hookd %s\n", HOOKD_VERSION);
            return 0;
        } else if ((strcmp(a, "--data") == 0 || strcmp(a, "--config") == 0 ||
                    strcmp(a, "--listen") == 0) && i + 1 < argc) {
            const char **dst = a[2] == 'd' ? &dir : a[2] == 'c' ? &config : &listen;
            *dst = argv[++i];
        } else if (strcmp(a, "--store") == 0 && i + 1 < argc) {
            store = argv[++i];
        } else if (strcmp(a, "--rotate") == 0) {
            rotate = true;
        } else if (!cmd && i == 1 && (strcmp(a, "key") == 0 || strcmp(a, "password") == 0)) {
            cmd = a;
        } else {
            fprintf(stderr, "hookd: unknown argument %s (try hookd --help)\n", a);
            return 2;
        }
    }
    if (store && dir) {
        fprintf(stderr, "hookd: give --data DIR or --store URL, not both\n");
        return 2;
    }
    if (store && strncmp(store, "sqlite:", 7) == 0) {
        dir = store + 7;
    } else if (store && !hk_store_is_url(store)) {
        fprintf(stderr, "hookd: --store %s: expected postgresql://... or sqlite:DIR\n", store);
        return 2;
    } else if (store) {
        dir = store;
        store_opt = "--store";
    }
    if (!dir) {
        fprintf(stderr, "hookd: --data DIR or --store URL is required (try hookd --help)\n");
        return 2;
    }
    hk_store_redact(dir, store_shown, sizeof store_shown);
    if (rotate && (!cmd || strcmp(cmd, "key") != 0)) {
        fprintf(stderr, "hookd: --rotate goes with the key subcommand\n");
        return 2;
    }
    if (cmd && strcmp(cmd, "key") == 0)
        return cmd_key(dir, rotate);
    if (cmd)
        return cmd_password(dir);

    hk_config cfg;
    char err[600];
    hk_config_defaults(&cfg);
    if (config && hk_config_load(&cfg, config, err, sizeof err) != 0) {
        fprintf(stderr, "hookd: config: %s\n", err);
        hk_config_free(&cfg);
        return 2;
    }
    if (listen)
        hk_config_set(&cfg.listen, listen);
    int rc = serve(&cfg, dir);
    hk_config_free(&cfg);
    return rc;
}
