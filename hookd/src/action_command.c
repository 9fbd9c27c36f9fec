/*
 * action_command.c - runs a program: argv from templates, never through a shell, so a value
 * like "; rm -rf ~" is one harmless argument.
 *
 * The child gets hookd's environment plus the ingredients (HOOKD_EVENT, HOOKD_VALUE1..3,
 * HOOKD_OCCURRED_AT, HOOKD_PAYLOAD, HOOKD_IDEMPOTENCY_KEY), the event as JSON on stdin, its
 * own process group, default signal handling and no inherited descriptors. Its stdout and
 * stderr are kept together (the first HK_COMMAND_OUTPUT_MAX bytes) for the result line.
 *
 * At most hk_command_max_concurrent commands run at once across all workers; more wait for
 * a slot (the queue adnanh/webhook's users keep asking for). On timeout the whole process
 * group gets SIGTERM, then SIGKILL after HK_COMMAND_KILL_GRACE_MS; that is a RETRY.
 * Exit 0 is OK, another exit FAIL (RETRY with "retry_on_failure": true).
 *
 * hookd must not set SIGCHLD to SIG_IGN nor reap children with waitpid(-1): this file
 * waits for its own child by pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action_util.h"
#include "hookd.h"

#ifndef HK_COMMAND_KILL_GRACE_MS
#define HK_COMMAND_KILL_GRACE_MS 2000
#endif
/* HOOKD_PAYLOAD is left empty above this (stdin still has it all): Linux refuses an
 * environment string over 128 KB, and a huge environment slows every exec. */
#ifndef HK_COMMAND_ENV_PAYLOAD_MAX
#define HK_COMMAND_ENV_PAYLOAD_MAX (64 * 1024)
#endif
/* After the program exits, how long its output pipe may stay open (held by something it
 * started in the background) before we stop reading. */
#define DRAIN_MS 100

extern char **environ;

int hk_command_max_concurrent = 4;

static const hka_field command_fields[] = {
    {"argv", HKA_ARGV, true, 0, 0},
    {"timeout", HKA_INT, false, 1, 86400},
    {"retry_on_failure", HKA_BOOL, false, 0, 0},
    {"allow_shell", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

/* Whoever holds the key fills the ingredients, so they must stay data. Two kinds of programs
 * would run them as code (matched on argv[0]'s file name, a version suffix allowed:
 * python3.11, perl5.36):
 *
 * - shells and script interpreters: their code is the argument after -c/-e (or an option
 *   cluster ending in one, "-ec") or a script file; arguments after that are data ($1,
 *   sys.argv[1]...), so ingredients are allowed there and only there. The script must be a
 *   path with a "/", so an option's value ("python3 -W ignore") is not taken for it.
 * - programs that run another program, or code, named anywhere in their arguments (env, sudo,
 *   xargs, awk, find, ...): no ingredient in any argument ("/usr/bin/env sh -c ..." is caught
 *   at env, whatever options come between).
 *
 * A list cannot be complete; for any other program its arguments are data to it, and
 * docs/actions.md says so. "allow_shell": true lifts the rule. */
static const char *const interpreters[] = {
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "pdksh", "yash", "fish", "csh", "tcsh",
    "pwsh", "python", "pypy", "pypy3", "perl", "ruby", "node", "nodejs", "php", "lua", "luajit",
    "tclsh", "wish", "expect", "Rscript", "julia", "guile", NULL,
};
static const char *const runners[] = {
    "env", "exec", "command", "nice", "nohup", "setsid", "stdbuf", "timeout", "ionice", "chrt",
    "taskset", "time", "watch", "xargs", "flock", "chroot", "unshare", "nsenter", "sudo",
    "doas", "su", "runuser", "setpriv", "systemd-run", "script", "parallel", "strace",
    "ltrace", "valgrind", "firejail", "bwrap", "docker", "podman", "kubectl", "busybox",
    "toybox", "awk", "gawk", "mawk", "nawk", "sed", "jq", "find", "make", "cmake", "m4", "bc",
    "dc", "gdb", "vim", "nvim", "emacs", "socat", "ssh", "osascript", "deno", "bun", "irb",
    "racket", "sbcl", "clisp", "ghci", "runghc", "groovy", "jshell", "scala", "swift",
    "dotnet", "R", NULL,
};

/* argv[0]'s file name in list (exactly, or followed by a version of digits and dots): that
 * name, else NULL. */
static const char *program_in(const char *prog, const char *const *list)
{
    const char *base = strrchr(prog, '/');
    base = base ? base + 1 : prog;
    for (const char *const *n = list; *n; n++) {
        size_t l = strlen(*n);
        if (strncmp(base, *n, l) != 0)
            continue;
        const char *rest = base + l;
        if (strspn(rest, "0123456789.") == strlen(rest))
            return *n;
    }
    return NULL;
}

/* "-c", "-e", "-E", "-r" (php), "--eval", "--command", or a cluster ending in c/e/E ("-ec"):
 * the next argument is code. */
static bool code_flag(const char *a)
{
    if (!strcmp(a, "--eval") || !strcmp(a, "--command") || !strcmp(a, "-Command") ||
        !strcmp(a, "-r"))
        return true;
    size_t n = strlen(a);
    return n >= 2 && a[0] == '-' && a[1] != '-' && strchr("ceE", a[n - 1]) != NULL;
}

/* The first {{Ingredient}} in s, copied into out (for the message), or NULL. */
static const char *first_ingredient(const char *s, char *out, size_t cap)
{
    const char *open = strstr(s, "{{");
    if (!open)
        return NULL;
    const char *close = strstr(open, "}}");
    size_t n = close ? (size_t)(close + 2 - open) : strlen(open);
    snprintf(out, cap, "%.*s", (int)(n < 60 ? n : 60), open);
    return out;
}

static int command_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, command_fields, "command", err, errcap))
        return -1;
    const char *prog = json_string_value(json_array_get(json_object_get(fields, "argv"), 0));
    if (!prog || !*prog) {
        snprintf(err, errcap, "command: field \"argv\": the program (argv[0]) is empty");
        return -1;
    }
    /* whoever holds the key fills the ingredients: they must stay data. An ingredient that
     * names the program, or that lands in a shell's or interpreter's arguments, would let
     * them choose what runs; that takes an explicit "allow_shell": true. */
    if (hka_get_bool(fields, "allow_shell", false))
        return 0;
    char ing[64];
    if (first_ingredient(prog, ing, sizeof ing)) {
        snprintf(err, errcap,
                 "command: argv[0]: the program is the ingredient %s, so whoever holds the key "
                 "would choose what runs; set \"allow_shell\": true to accept that, or name "
                 "the program (docs/actions.md)",
                 ing);
        return -1;
    }
    const json_t *argv = json_object_get(fields, "argv");
    size_t argc = json_array_size(argv);
    const char *runner = program_in(prog, runners);
    const char *interp = runner ? NULL : program_in(prog, interpreters);
    bool data = false, code_next = false;   /* past the code; the next argument is code */
    for (size_t i = 1; (runner || interp) && !data && i < argc; i++) {
        const char *arg = json_string_value(json_array_get(argv, i));
        if (!arg)
            continue;
        if (first_ingredient(arg, ing, sizeof ing)) {
            snprintf(err, errcap,
                     "command: argv[%zu]: the ingredient %s is where \"%s\" reads %s, so a "
                     "value could run as code; set \"allow_shell\": true to accept that, or "
                     "pass values %s or in the environment (HOOKD_VALUE1) or stdin "
                     "(docs/actions.md)",
                     i, ing, runner ? runner : interp,
                     runner ? "a program or code to run" : "its code or options",
                     runner ? "" : "as arguments after the code (sh -c 'echo \"$1\"' sh {{Value1}})");
            return -1;
        }
        if (interp && code_next)
            data = true;   /* this literal argument is the code */
        else if (interp && code_flag(arg))
            code_next = true;
        else if (interp && arg[0] != '-' && strchr(arg, '/'))
            data = true;   /* a script file */
    }
    return 0;
}

/* ---------------------------------------------------------------- the slots */

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER;
static int slots_used;

static void slot_take(void)
{
    pthread_mutex_lock(&slot_mu);
    while (hk_command_max_concurrent > 0 && slots_used >= hk_command_max_concurrent)
        pthread_cond_wait(&slot_cv, &slot_mu);
    slots_used++;
    pthread_mutex_unlock(&slot_mu);
}

static void slot_give(void)
{
    pthread_mutex_lock(&slot_mu);
    slots_used--;
    pthread_cond_signal(&slot_cv);
    pthread_mutex_unlock(&slot_mu);
}

/* ---------------------------------------------------------------- helpers */

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static char *env_pair(const char *name, const char *value)
{
    char *s = NULL;
    if (asprintf(&s, "%s=%s", name, value ? value : "") < 0)
        return NULL;
    return s;
}

#define OUR_VARS 7

/* hookd's environment without HOOKD_* (an outer hookd's, or stale ones), then our OUR_VARS
 * (malloc'd; the others are borrowed from environ). */
static char **build_env(const hk_event *e, const char *key, const char *stdin_json)
{
    size_t n = 0;
    for (char **p = environ; p && *p; p++)
        n++;
    char **env = calloc(n + OUR_VARS + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t o = 0;
    for (char **p = environ; p && *p; p++)
        if (strncmp(*p, "HOOKD_", 6))
            env[o++] = *p;
    char when[64];
    hk_occurred_at(e->occurred_at, when, sizeof when);
    char *mine[OUR_VARS] = {env_pair("HOOKD_EVENT", e->name),
                            env_pair("HOOKD_VALUE1", e->value1),
                            env_pair("HOOKD_VALUE2", e->value2),
                            env_pair("HOOKD_VALUE3", e->value3),
                            env_pair("HOOKD_OCCURRED_AT", when),
                            env_pair("HOOKD_PAYLOAD",
                                     strlen(stdin_json) <= HK_COMMAND_ENV_PAYLOAD_MAX ? stdin_json
                                                                                   : ""),
                            env_pair("HOOKD_IDEMPOTENCY_KEY", key)};
    bool ok = true;
    for (size_t i = 0; i < OUR_VARS; i++)
        ok = ok && mine[i];
    if (!ok) {
        for (size_t i = 0; i < OUR_VARS; i++)
            free(mine[i]);
        free(env);
        return NULL;
    }
    memcpy(env + o, mine, sizeof mine);
    return env;
}

static void free_env(char **env)
{
    if (!env)
        return;
    size_t end = 0;
    while (env[end])
        end++;
    for (size_t i = end - OUR_VARS; i < end; i++)
        free(env[i]);
    free(env);
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* A descriptor that becomes readable when pid exits, where the kernel has pidfd_open. */
static int pid_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#else
    (void)pid;
    return -1;
#endif
}

/* Has pid exited? Leaves it a zombie (WNOWAIT), so its pid, and so its process group id,
 * cannot be reused while we may still signal the group. */
static bool exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD;
    return si.si_pid == pid;
}

/* ---------------------------------------------------------------- run */

static hk_action_status command_run(const json_t *fields, const hk_event *e,
                                    const char *idempotency_key, char *result, size_t cap)
{
    char err[512] = "";
    if (command_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    const json_t *argv_j = json_object_get(fields, "argv");
    size_t argc = json_array_size(argv_j);
    long long timeout_ms = hka_get_int(fields, "timeout", 30) * 1000;
    bool retry_on_failure = hka_get_bool(fields, "retry_on_failure", false);
    hk_action_status st = HK_ACTION_FAIL;
    char **argv = calloc(argc + 1, sizeof *argv);
    char **env = NULL, *input = NULL;
    int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, pfd = -1;
    pid_t pid = -1;
    bool have_slot = false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_init = false, attr_init = false;
    char out[HK_COMMAND_OUTPUT_MAX];
    size_t out_len = 0, out_total = 0;

    if (!argv) {
        hka_result(result, cap, "command: out of memory");
        return HK_ACTION_RETRY;
    }
    for (size_t i = 0; i < argc; i++) {
        char why[256];
        argv[i] = hk_template_expand(json_string_value(json_array_get(argv_j, i)), e,
                                     HK_ESC_NONE, why, sizeof why);
        if (!argv[i]) {
            hka_result(result, cap, "command: field \"argv\" item %zu: %s", i, why);
            goto out;
        }
    }
    if (!argc || !argv[0][0]) {
        hka_result(result, cap, "command: failed: the program name expanded to nothing");
        goto out;
    }
    input = hka_event_stdin(e);
    env = input ? build_env(e, idempotency_key, input) : NULL;
    if (!env || pipe2(in_p, O_CLOEXEC) || pipe2(out_p, O_CLOEXEC)) {
        hka_result(result, cap, "command: will retry: cannot prepare: %s", strerror(errno));
        st = HK_ACTION_RETRY;
        goto out;
    }

    posix_spawn_file_actions_init(&fa);
    fa_init = true;
    posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* descriptors hookd opened without O_CLOEXEC (a library's) stay out of the child too */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&attr);
    attr_init = true;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);   /* hookd ignores SIGPIPE; the child must not */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);

    slot_take();
    have_slot = true;
    long long start = now_ms(), deadline = start + timeout_ms;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, env);
    close(in_p[0]);
    close(out_p[1]);
    in_p[0] = out_p[1] = -1;
    if (rc != 0) {
        st = rc == ENOENT || rc == EACCES || rc == ENOEXEC || rc == ENOTDIR || rc == ELOOP
                 ? HK_ACTION_FAIL
                 : HK_ACTION_RETRY;
        hka_result(result, cap, "command: %s: cannot run %.200s: %s",
                   st == HK_ACTION_FAIL ? "failed" : "will retry", argv[0], strerror(rc));
        goto out;
    }
    pfd = pid_fd(pid);
    set_nonblock(in_p[1]);
    set_nonblock(out_p[0]);

    /* feed stdin, collect output, watch the clock and the child */
    size_t in_len = strlen(input), in_off = 0;
    bool done = false, timed_out = false, killed = false;
    long long drain_until = 0, kill_at = 0;
    while (!(done && (out_p[0] < 0 || now_ms() >= drain_until))) {
        long long now = now_ms();
        if (!done && !timed_out && now >= deadline) {
            timed_out = true;
            kill(-pid, SIGTERM);
            kill_at = now + HK_COMMAND_KILL_GRACE_MS;
        }
        if (!done && timed_out && !killed && now >= kill_at) {
            killed = true;
            kill(-pid, SIGKILL);
        }
        struct pollfd p[3];
        int np = 0, i_in = -1, i_out = -1;
        if (in_p[1] >= 0 && !done) {
            i_in = np;
            p[np++] = (struct pollfd){.fd = in_p[1], .events = POLLOUT};
        }
        if (out_p[0] >= 0) {
            i_out = np;
            p[np++] = (struct pollfd){.fd = out_p[0], .events = POLLIN};
        }
        if (pfd >= 0 && !done)
            p[np++] = (struct pollfd){.fd = pfd, .events = POLLIN};
        long long until = done ? drain_until : timed_out ? (killed ? now + 1000 : kill_at)
                                                         : deadline;
        long long wait = until - now;
        if (pfd < 0 && !done && wait > 20)
            wait = 20;   /* no pidfd: look at the child now and then */
        if (wait < 0)
            wait = 0;
        int n = poll(p, (nfds_t)np, (int)wait);
        if (n < 0 && errno != EINTR) {
            kill(-pid, SIGKILL);   /* cannot watch it any more: do not leave it running */
            break;
        }
        if (n > 0 && i_in >= 0 && p[i_in].revents) {
            ssize_t w = write(in_p[1], input + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) {
                close(in_p[1]);   /* EPIPE: the program does not read its input; fine */
                in_p[1] = -1;
            }
        }
        if (n > 0 && i_out >= 0 && p[i_out].revents) {
            char buf[4096];
            ssize_t r = read(out_p[0], buf, sizeof buf);
            if (r > 0) {
                size_t keep = sizeof out - out_len;
                if ((size_t)r < keep)
                    keep = (size_t)r;
                memcpy(out + out_len, buf, keep);
                out_len += keep;
                out_total += (size_t)r;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(out_p[0]);
                out_p[0] = -1;
            }
        }
        if (!done && exited(pid)) {
            done = true;
            drain_until = now_ms() + DRAIN_MS;
            if (timed_out)
                kill(-pid, SIGKILL);   /* whatever of the group is left; pid is still ours */
            if (in_p[1] >= 0) {
                close(in_p[1]);
                in_p[1] = -1;
            }
        }
    }
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    long long took = now_ms() - start;

    if (w != pid) {
        st = HK_ACTION_FAIL;
        hka_result(result, cap, "command: failed: %.200s: exit status lost (was SIGCHLD "
                   "ignored, or the child reaped elsewhere?)", argv[0]);
    } else if (timed_out) {
        st = HK_ACTION_RETRY;
        hka_result(result, cap, "command: will retry: %.200s timed out after %lld s, process "
                   "group %s", argv[0], timeout_ms / 1000, killed ? "killed" : "terminated");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        st = HK_ACTION_OK;
        hka_result(result, cap, "command: %.200s exited 0 in %lld ms", argv[0], took);
    } else {
        st = retry_on_failure ? HK_ACTION_RETRY : HK_ACTION_FAIL;
        if (WIFEXITED(status))
            hka_result(result, cap, "command: %s: %.200s exited %d", st == HK_ACTION_RETRY ?
                       "will retry" : "failed", argv[0], WEXITSTATUS(status));
        else
            hka_result(result, cap, "command: %s: %.200s killed by signal %d (%s)",
                       st == HK_ACTION_RETRY ? "will retry" : "failed", argv[0],
                       WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    if (out_total) {
        size_t o = strlen(result);
        if (o < cap) {
            snprintf(result + o, cap - o, "; output%s: ", out_total > out_len ? " (start)" : "");
            hka_result_append_quoted(result, cap, out, out_len);
        }
    }
out:
    if (have_slot)
        slot_give();
    if (pfd >= 0)
        close(pfd);
    for (int i = 0; i < 2; i++) {
        if (in_p[i] >= 0)
            close(in_p[i]);
        if (out_p[i] >= 0)
            close(out_p[i]);
    }
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_init)
        posix_spawnattr_destroy(&attr);
    free_env(env);
    free(input);
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    return st;
}

const hk_action hk_action_command = {"command", command_validate, command_run};
