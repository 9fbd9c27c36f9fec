/* main.c - simboard: the command line, and the board's hardware (the parent process).
 *
 *   simboard run    --state DIR [--world FILE] [--name NAME] [--jumper]
 *   simboard press  --state DIR [--double | --hold SECONDS]
 *   simboard jumper on|off --state DIR
 *   simboard state  --state DIR
 *   simboard wait   --state DIR --for sleeping|idle|running [--timeout SECONDS]
 *   simboard off    --state DIR
 *   simboard type   --state DIR TEXT        (console input; Enter is added)
 *
 * `run` is the board: it keeps what survives a reset (RTC memory, the jumper, flash, the MAC)
 * and forks one child per boot that runs the firmware (board.c). The other commands talk to
 * it over the Unix socket DIR/board.sock, one line each way. docs/simulated-board.md has the
 * whole story. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sim.h"

#define MAX_CLIENTS 32
#define REBOOT_AFTER_CRASH_MS 1000   /* so a crash loop does not flood the log */
#define CLIENT_IDLE_MS 5000

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')   /* messages may end with the usage text */
        msg[--n] = 0;
    fprintf(stderr, "simboard: %s\n", msg);
    exit(1);
}

static const char usage[] =
    "usage: simboard run    --state DIR [--world FILE] [--name NAME] [--jumper]\n"
    "       simboard press  --state DIR [--double | --hold SECONDS]\n"
    "       simboard jumper on|off --state DIR\n"
    "       simboard state  --state DIR\n"
    "       simboard wait   --state DIR --for sleeping|idle|running [--timeout SECONDS]\n"
    "       simboard off    --state DIR\n"
    "       simboard type   --state DIR TEXT\n";

/* ---- options ------------------------------------------------------------------------------ */

static struct {
    const char *cmd, *state, *world, *name, *mode, *arg;
    double timeout;
    bool dbl;         /* press --double */
    double hold;      /* press --hold SECONDS; < 0: not held */
    bool jumper;      /* run --jumper: powered on with the debug jumper in */
} opt = {.timeout = 60, .hold = -1};

static void parse_args(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        exit(argc < 2 ? 2 : 0);
    }
    opt.cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = strcmp(a, "--state") == 0   ? &opt.state
                           : strcmp(a, "--world") == 0 ? &opt.world
                           : strcmp(a, "--name") == 0  ? &opt.name
                           : strcmp(a, "--for") == 0   ? &opt.mode
                                                       : NULL;
        if (strcmp(a, "--double") == 0) {
            opt.dbl = true;
        } else if (strcmp(a, "--hold") == 0) {
            char *end = NULL;
            if (i + 1 < argc)
                opt.hold = strtod(argv[++i], &end);
            if (!end || *end || end == argv[i] || !(opt.hold >= 0 && opt.hold <= 60))
                die("--hold: seconds the button is held, 0 to 60\n%s", usage);
        } else if (dst || strcmp(a, "--timeout") == 0) {
            if (i + 1 >= argc)
                die("%s needs a value\n%s", a, usage);
            if (dst) {
                *dst = argv[++i];
            } else {
                char *end;
                opt.timeout = strtod(argv[++i], &end);
                if (*end || opt.timeout < 0 || opt.timeout > 86400)
                    die("--timeout: seconds, 0 to 86400");
            }
        } else if (strcmp(a, "--jumper") == 0 && strcmp(opt.cmd, "run") == 0) {
            opt.jumper = true;
        } else if (a[0] == '-' && a[1] == '-') {
            die("unknown option %s\n%s", a, usage);
        } else if (!opt.arg) {
            opt.arg = a;
        } else {
            die("unexpected argument '%s'\n%s", a, usage);
        }
    }
    if (!opt.state)
        die("%s needs --state DIR\n%s", opt.cmd, usage);
}

static void sock_path(const char *dir, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "%s/board.sock", dir) >=
        sizeof sa->sun_path)
        die("state folder path too long for its control socket (%zu bytes at most): %s",
            sizeof sa->sun_path - 12, dir);
}

/* ---- the client commands ------------------------------------------------------------------ */

static int client(const char *line)
{
    struct sockaddr_un sa;
    sock_path(opt.state, &sa);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("no board running in %s (start one with simboard run --state %s)", opt.state,
            opt.state);
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len)
        die("lost the board in %s: %s", opt.state, strerror(errno));
    static char reply[65536];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, reply + got, sizeof reply - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof reply - 1)
            break;
    }
    close(fd);
    reply[got] = 0;
    char *nl = strchr(reply, '\n');
    if (nl)
        *nl = 0;
    if (strncmp(reply, "ok", 2) == 0) {
        if (reply[2] == ' ')
            puts(reply + 3);
        return 0;
    }
    if (strncmp(reply, "timeout ", 8) == 0) {
        fprintf(stderr, "simboard: timed out after %g s waiting for the board in %s to be %s "
                "(it is %s)\n", opt.timeout, opt.state, opt.mode, reply + 8);
        return 1;
    }
    if (strncmp(reply, "error ", 6) == 0) {
        fprintf(stderr, "simboard: %s\n", reply + 6);
        return 1;
    }
    fprintf(stderr, "simboard: the board in %s %s\n", opt.state,
            got ? "gave an answer this simboard does not understand" : "went away");
    return 1;
}

static int run_client(void)
{
    char line[8192];
    const char *c = opt.cmd;
    if ((opt.dbl || opt.hold >= 0) && strcmp(c, "press") != 0)
        die("--double and --hold are for press\n%s", usage);
    if (opt.dbl && opt.hold >= 0)
        die("press --double or --hold, not both\n%s", usage);
    if (strcmp(c, "press") == 0 && (opt.dbl || opt.hold >= 0)) {
        if (opt.arg)
            die("%s takes no argument\n%s", c, usage);
        if (opt.dbl)
            snprintf(line, sizeof line, "press double\n");
        else
            snprintf(line, sizeof line, "press hold %.0f\n", opt.hold * 1000);
    } else if (strcmp(c, "press") == 0 || strcmp(c, "state") == 0 || strcmp(c, "off") == 0) {
        if (opt.arg)
            die("%s takes no argument\n%s", c, usage);
        snprintf(line, sizeof line, "%s\n", c);
    } else if (strcmp(c, "jumper") == 0) {
        if (!opt.arg || (strcmp(opt.arg, "on") != 0 && strcmp(opt.arg, "off") != 0))
            die("jumper on|off\n%s", usage);
        snprintf(line, sizeof line, "jumper %s\n", opt.arg);
    } else if (strcmp(c, "wait") == 0) {
        if (!opt.mode || (strcmp(opt.mode, "sleeping") != 0 && strcmp(opt.mode, "idle") != 0 &&
                          strcmp(opt.mode, "running") != 0))
            die("wait --for sleeping|idle|running\n%s", usage);
        snprintf(line, sizeof line, "wait %s %lld\n", opt.mode, (long long)(opt.timeout * 1000));
    } else if (strcmp(c, "type") == 0) {
        if (!opt.arg || strlen(opt.arg) > 2000)
            die("type TEXT (at most 2000 bytes)\n%s", usage);
        /* hex, so that any byte crosses the line-based control protocol */
        size_t n = (size_t)snprintf(line, sizeof line, "type ");
        for (const unsigned char *p = (const unsigned char *)opt.arg; *p; p++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%02x", *p);
        snprintf(line + n, sizeof line - n, "0d\n");   /* Enter, as a serial terminal sends */
    } else {
        die("unknown command '%s'\n%s", c, usage);
    }
    return client(line);
}

/* ---- the board: the parent process ---------------------------------------------------------- */

enum { MODE_RUNNING, MODE_SLEEPING, MODE_IDLE };
static const char *const mode_names[] = {"running", "sleeping", "idle"};

static struct {
    char dir[PATH_MAX];
    char name[128];
    int mode;
    pid_t child;
    uint32_t wake_start;
    uint32_t wake_at;           /* timed deep sleep: when the timer fires (0: none) */
    uint32_t reboot_at;         /* after a crash (0: none) */
    uint32_t release_at;        /* press --hold: when the button is let go (0: not held) */
    bool reported;              /* this wake has had its report */
    sim_counts reported_counts; /* what it counted then */
    bool jumper;
    bool interactive, console_mode;
    struct termios saved_tty;
    int listen_fd, sig_fd, console_w, notify_r;
    struct {
        int fd;
        char buf[4200];
        size_t len;
        uint32_t since;
        int wait_mode;          /* -1: not waiting */
        uint32_t deadline;
    } clients[MAX_CLIENTS];
} B;

static void reply(int i, const char *text)
{
    if (B.clients[i].fd < 0)
        return;
    size_t len = strlen(text);
    /* a client that does not read its answer is not worth blocking the board for */
    if (send(B.clients[i].fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* nothing to do */
    }
    close(B.clients[i].fd);
    B.clients[i].fd = -1;
}

static void tty_restore(void)
{
    if (B.interactive)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &B.saved_tty);
}

static void led_off_at_reset(void)
{
    /* a reset puts every pad back to input: the active-low LEDs go dark */
    static const int gpio[2] = {2, 16};
    for (int i = 0; i < 2; i++) {
        if (!sim_sh->led_on[i])
            continue;
        sim_sh->led_on[i] = 0;
        sim_ev e;
        ev_begin(&e, "led");
        ev_str(&e, "pin", sim_pin_name(gpio[i]));
        ev_int(&e, "gpio", gpio[i]);
        ev_bool(&e, "on", false);
        ev_end(&e);
        sim_say("LED %s off", sim_pin_name(gpio[i]));
    }
}

/* The wake is over (or the app went idle): count what it did. A wake reported already (at
 * idle, or a crash waiting for its reboot) is reported again only if it did more since. */
static void report(const char *end)
{
    uint32_t board_ms = sim_board_ms();
    sim_join_settle(&sim_sh->join, board_ms);
    if (B.reported && memcmp(&B.reported_counts, &sim_sh->counts, sizeof B.reported_counts) == 0)
        return;
    sim_report(&sim_sh->counts, sim_now() - B.wake_start, board_ms, end);
    B.reported = true;
    B.reported_counts = sim_sh->counts;
}

static void simple_event(const char *event, const char *key, const char *val)
{
    sim_ev e;
    ev_begin(&e, event);
    if (key)
        ev_str(&e, key, val);
    ev_end(&e);
}

static void kill_child(void)
{
    if (B.child <= 0)
        return;
    kill(B.child, SIGKILL);
    while (waitpid(B.child, NULL, 0) < 0 && errno == EINTR) {
    }
    B.child = 0;
}

static void close_parent_fds(void)
{
    close(B.listen_fd);
    close(B.sig_fd);
    close(B.console_w);
    close(B.notify_r);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (B.clients[i].fd >= 0)
            close(B.clients[i].fd);
}

static void boot(int cause)
{
    /* the chip restarts: pads to input, radio off, counters of the new wake at zero */
    sim_sh->boot++;
    sim_sh->reset_cause = cause;
    sim_sh->boot_at = sim_now();
    /* the RTC clock counts through deep sleep; any other reset restarts it */
    sim_sh->slept_ms = cause == HAL_RESET_DEEPSLEEP && B.mode == MODE_SLEEPING
                           ? (int64_t)(sim_now() - sim_sh->slept_at) : -1;
    for (int g = 0; g < SIM_NPINS; g++) {
        sim_sh->pin_mode[g] = -1;
        sim_sh->pin_pull[g] = HAL_PULL_NONE;
        sim_sh->pin_latch[g] = 0;
    }
    sim_sh->request = REQ_NONE;
    sim_sh->sleep_ms = 0;
    sim_sh->sta_active = sim_sh->ap_active = false;
    memset(&sim_sh->join, 0, sizeof sim_sh->join);
    memset(&sim_sh->counts, 0, sizeof sim_sh->counts);
    sim_sh->wake_drained_mAs = 0;
    memset(sim_sh->listening, 0, sizeof sim_sh->listening);
    sim_sh->heartbeat = sim_now();
    sim_sh->board_clock = 0;   /* the board's clock starts again with the CPU */
    B.wake_at = B.reboot_at = 0;
    B.reported = false;
    /* what sat in the UART's FIFO is gone after a reset */
    char junk[256];
    while (read(sim_console_fd, junk, sizeof junk) > 0) {
    }

    sim_ev e;
    ev_begin(&e, "boot");
    ev_str(&e, "reset_cause", sim_cause_name(cause));
    ev_end(&e);
    sim_say("boot %u: %s", (unsigned)sim_sh->boot, sim_cause_name(cause));
    if (sim_w.flip_boot == sim_sh->boot) {
        /* a stray write or a brown-out: what the firmware keeps there must not be trusted */
        sim_sh->rtc[sim_w.flip_offset] ^= 0xFF;
        ev_begin(&e, "fault");
        ev_str(&e, "what", "rtc_flip_at_boot");
        ev_int(&e, "offset", sim_w.flip_offset);
        ev_end(&e);
    }

    B.mode = MODE_RUNNING;
    B.wake_start = sim_now();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sim_say("fork failed: %s; the board stays off until RESET", strerror(errno));
        B.mode = MODE_SLEEPING;
        return;
    }
    if (pid == 0) {
        pid_t parent = getppid();
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the hardware went away: so does the chip */
        if (getppid() != parent)
            _exit(0);
        close_parent_fds();
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* terminal signals are for the hardware, which powers the board off */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        sim_child_main();
    }
    B.child = pid;
}

static void wake_ended_by_reset(int cause, const char *extra_key, const char *extra)
{
    sim_ev e;
    ev_begin(&e, "reset");
    ev_str(&e, "cause", sim_cause_name(cause));
    if (extra_key)
        ev_str(&e, extra_key, extra);
    ev_end(&e);
    sim_say("reset: %s%s%s", sim_cause_name(cause), extra ? ", " : "", extra ? extra : "");
    led_off_at_reset();
    report(sim_cause_name(cause));
}

static void press(void)
{
    simple_event("press", "mode", mode_names[B.mode]);
    sim_say("RESET pressed");
    if (B.mode == MODE_SLEEPING) {
        boot(HAL_RESET_DEEPSLEEP);
        return;
    }
    kill_child();
    wake_ended_by_reset(HAL_RESET_HARD, NULL, NULL);
    boot(HAL_RESET_HARD);
}

/* press --double: the second press as the first wake starts, as a person's second press
 * comes while a real chip is still booting or joining (docs/press-kinds.md).
 * press --hold MS: the button, also wired to button_gpio, pulls it to GND for MS; its
 * capacitor gives RST one short pulse, so the board boots at once (without button_gpio a
 * held RST would keep the chip in reset: no long press to see). */
static const char *press_cmd(const char *how)
{
    long long ms;
    if (strcmp(how, "double") == 0) {
        press();
        press();
        return NULL;
    }
    if (sscanf(how, "hold %lld", &ms) != 1 || ms < 0 || ms > 60000)
        return "bad press request";
    if (sim_w.button_gpio < 0)
        return "the board's button is wired to RST only: press --hold needs \"button_gpio\" "
               "in its world file (docs/press-kinds.md)";
    if (B.release_at)
        return "the button is already held";
    sim_sh->ext_level[sim_w.button_gpio] = 0;
    sim_ev e;
    ev_begin(&e, "hold");
    ev_int(&e, "gpio", sim_w.button_gpio);
    ev_int(&e, "ms", ms);
    ev_end(&e);
    sim_say("button held for %lld ms (GPIO%d low)", ms, sim_w.button_gpio);
    press();
    B.release_at = sim_now() + (uint32_t)ms;
    if (!B.release_at)
        B.release_at = 1;
    return NULL;
}

static void release_button(void)
{
    B.release_at = 0;
    sim_sh->ext_level[sim_w.button_gpio] = -1;
    simple_event("release", NULL, NULL);
    sim_say("button let go");
}

static void set_jumper(bool on)
{
    B.jumper = on;
    sim_sh->ext_level[14] = on ? 0 : -1;   /* D5 to GND */
    sim_ev e;
    ev_begin(&e, "jumper");
    ev_bool(&e, "on", on);
    ev_end(&e);
    sim_say("jumper %s", on ? "on (D5 to GND: debug mode)" : "off");
}

static void child_exited(int status)
{
    B.child = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sim_sh->request == REQ_SLEEP) {
        uint32_t ms = sim_sh->sleep_ms;
        /* the RTC timer counts 2^32 us at most: about 71 minutes */
        if (ms > 4294967u)
            ms = 4294967u;
        sim_ev e;
        ev_begin(&e, "sleep");
        ev_int(&e, "ms", ms);
        ev_end(&e);
        if (ms)
            sim_say("deep sleep for %u ms", (unsigned)ms);
        else
            sim_say("deep sleep until RESET");
        led_off_at_reset();
        report("sleep");
        B.mode = MODE_SLEEPING;
        sim_sh->slept_at = sim_now();
        B.wake_at = ms ? sim_now() + ms : 0;
        if (B.wake_at == 0 && ms)
            B.wake_at = 1;
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sim_sh->request == REQ_RESET) {
        wake_ended_by_reset(HAL_RESET_SOFT, NULL, NULL);
        boot(HAL_RESET_SOFT);
        return;
    }
    /* anything else is a crash: the ESP8266 prints its exception and resets */
    char why[64];
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "firmware killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(why, sizeof why, "firmware exited with status %d", WEXITSTATUS(status));
    wake_ended_by_reset(HAL_RESET_EXCEPTION, "why", why);
    B.mode = MODE_RUNNING;
    B.reboot_at = sim_now() + REBOOT_AFTER_CRASH_MS;
}

static void check_idle(void)
{
    if (B.child > 0 && B.mode == MODE_RUNNING && sim_sh->request == REQ_IDLE) {
        simple_event("idle", NULL, NULL);
        sim_say("firmware returned: the board stays awake (idle)");
        report("idle");
        B.mode = MODE_IDLE;
    }
}

static void state_json(char *out, size_t cap)
{
    const uint8_t *m = sim_sh->mac;
    char name[300], world[SIM_PATH_MAX * 2];
    sim_json_escape(name, sizeof name, B.name, strlen(B.name));
    sim_json_escape(world, sizeof world, sim_w.source, strlen(sim_w.source));
    uint32_t now = sim_now();
    int link = B.child > 0 && sim_sh->sta_active ? sim_join_link(&sim_sh->join, sim_board_ms())
                                                  : HAL_LINK_IDLE;
    static const char *const links[] = {"IDLE", "CONNECTING", "WRONG_PASSWORD", "NO_AP_FOUND",
                                        "CONNECT_FAIL", "GOT_IP"};
    size_t n = (size_t)snprintf(
        out, cap,
        "{\"name\":\"%s\",\"power\":\"on\",\"mode\":\"%s\",\"boots\":%u,\"reset_cause\":\"%s\","
        "\"leds\":{\"D4\":\"%s\",\"D0\":\"%s\"},\"jumper\":%s,"
        "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"link\":\"%s\"",
        name, mode_names[B.mode], (unsigned)sim_sh->boot, sim_cause_name(sim_sh->reset_cause),
        sim_sh->led_on[0] ? "on" : "off", sim_sh->led_on[1] ? "on" : "off",
        B.jumper ? "true" : "false", m[0], m[1], m[2], m[3], m[4], m[5], links[link]);
    if (link == HAL_LINK_GOT_IP && n < cap) {
        uint32_t ip = sim_sh->join.ipcfg.ip;
        n += (size_t)snprintf(out + n, cap - n, ",\"ip\":\"%u.%u.%u.%u\"", ip >> 24,
                              (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    }
    if (sim_w.battery_mAs > 0 && n < cap)
        n += (size_t)snprintf(out + n, cap - n, ",\"battery_mv\":%u", (unsigned)sim_supply_mv());
    if (B.mode == MODE_SLEEPING && B.wake_at && n < cap)
        n += (size_t)snprintf(out + n, cap - n, ",\"wake_in_ms\":%u",
                              (unsigned)(B.wake_at > now ? B.wake_at - now : 0));
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, ",\"listening\":{");
    bool first = true;
    for (int i = 0; i < SIM_MAX_PORTS && B.child > 0 && n < cap; i++)
        if (sim_sh->listening[i][0]) {
            n += (size_t)snprintf(out + n, cap - n, "%s\"%u\":%u", first ? "" : ",",
                                  sim_sh->listening[i][0], sim_sh->listening[i][1]);
            first = false;
        }
    if (n < cap)
        snprintf(out + n, cap - n, "},\"world\":\"%s\",\"pid\":%d}", world, (int)getpid());
}

static _Noreturn void power_off(int client_idx)
{
    kill_child();
    if (B.mode != MODE_SLEEPING) {
        led_off_at_reset();
        report("power off");
    }
    sim_ev e;
    ev_begin(&e, "power");
    ev_bool(&e, "on", false);
    ev_end(&e);
    sim_say("power off");
    tty_restore();
    struct sockaddr_un sa;
    sock_path(B.dir, &sa);
    unlink(sa.sun_path);
    if (client_idx >= 0)
        reply(client_idx, "ok\n");
    for (int i = 0; i < MAX_CLIENTS; i++)
        reply(i, "error the board was powered off\n");
    exit(0);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void console_input(const char *data, size_t n)
{
    /* a full UART FIFO drops bytes, it never blocks the sender */
    if (write(B.console_w, data, n) < 0) {
    }
}

static void command(int i)
{
    char *line = B.clients[i].buf;
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    if (strcmp(line, "press") == 0) {
        press();
        reply(i, "ok\n");
    } else if (strncmp(line, "press ", 6) == 0) {
        const char *why = press_cmd(line + 6);
        char out[256];
        snprintf(out, sizeof out, why ? "error %s\n" : "ok\n", why);
        reply(i, out);
    } else if (strcmp(line, "jumper on") == 0 || strcmp(line, "jumper off") == 0) {
        bool on = strcmp(line, "jumper on") == 0;
        if (on != B.jumper)
            set_jumper(on);
        reply(i, "ok\n");
    } else if (strcmp(line, "state") == 0) {
        static char out[4096 + SIM_PATH_MAX * 2];
        memcpy(out, "ok ", 3);
        state_json(out + 3, sizeof out - 5);
        strcat(out, "\n");
        reply(i, out);
    } else if (strncmp(line, "wait ", 5) == 0) {
        char mode[16];
        long long ms;
        int m = -1;
        if (sscanf(line + 5, "%15s %lld", mode, &ms) == 2 && ms >= 0)
            for (int k = 0; k < 3; k++)
                if (strcmp(mode, mode_names[k]) == 0)
                    m = k;
        if (m < 0) {
            reply(i, "error bad wait request\n");
            return;
        }
        B.clients[i].wait_mode = m;
        B.clients[i].deadline = sim_now() + (uint32_t)ms;
    } else if (strcmp(line, "off") == 0) {
        power_off(i);
    } else if (strncmp(line, "type ", 5) == 0) {
        char data[2100];
        size_t n = 0;
        for (const char *p = line + 5; p[0] && p[1] && n < sizeof data; p += 2) {
            int hi = hexval(p[0]), lo = hexval(p[1]);
            if (hi < 0 || lo < 0)
                break;
            data[n++] = (char)(hi << 4 | lo);
        }
        console_input(data, n);
        reply(i, "ok\n");
    } else {
        reply(i, "error unknown request\n");
    }
}

static void check_waiters(void)
{
    uint32_t now = sim_now();
    /* "running" while rebooting after a crash; a wait for sleeping or idle is for a wake that
     * has really ended */
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (B.clients[i].fd < 0 || B.clients[i].wait_mode < 0)
            continue;
        if (B.clients[i].wait_mode == B.mode) {
            reply(i, "ok\n");
        } else if ((int32_t)(now - B.clients[i].deadline) >= 0) {
            char t[64];
            snprintf(t, sizeof t, "timeout %s\n", mode_names[B.mode]);
            reply(i, t);
        }
    }
}

static void help(void)
{
    sim_say("keys: Enter or r = press RESET, d = press it twice (a double press), j = debug "
            "jumper on/off, c = type to the "
            "firmware's console (Ctrl-] to come back), q = power off");
}

static void key(char c)
{
    if (B.console_mode) {
        if (c == 0x1d) {
            B.console_mode = false;
            sim_say("console: keys are board controls again");
        } else {
            console_input(&c, 1);
        }
        return;
    }
    switch (c) {
    case '\r': case '\n': case 'r': case 'R': press(); break;
    case 'd': case 'D': press_cmd("double"); break;
    case 'j': case 'J': set_jumper(!B.jumper); break;
    case 'q': case 'Q': case 3: case 4: power_off(-1);
    case 'c': case 'C':
        B.console_mode = true;
        sim_say("console: keys go to the firmware; Ctrl-] returns");
        break;
    case 'h': case 'H': case '?': help(); break;
    default: break;
    }
}

static void load_mac(void)
{
    char path[PATH_MAX + 8], text[64] = "";
    snprintf(path, sizeof path, "%s/mac", B.dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(text, sizeof text, f))
            text[0] = 0;
        fclose(f);
        unsigned b[6];
        if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
            die("%s: not a MAC address (delete the file to get a new one)", path);
        for (int i = 0; i < 6; i++)
            sim_sh->mac[i] = (uint8_t)b[i];
        return;
    }
    /* a new board: Espressif's OUI, the rest random, kept for every later run */
    uint8_t r[3];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        die("getrandom: %s", strerror(errno));
    uint8_t mac[6] = {0x18, 0xfe, 0x34, r[0], r[1], r[2]};
    memcpy(sim_sh->mac, mac, 6);
    f = fopen(path, "w");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    if (fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

static void setup(void)
{
    sim_clock_start();
    if (mkdir(opt.state, 0755) < 0 && errno != EEXIST)
        die("cannot create %s: %s", opt.state, strerror(errno));
    if (!realpath(opt.state, B.dir))
        die("%s: %s", opt.state, strerror(errno));
    if ((size_t)snprintf(sim_flash_dir, sizeof sim_flash_dir, "%s/flash", B.dir) >=
        sizeof sim_flash_dir)
        die("state folder path too long: %s", B.dir);
    if (mkdir(sim_flash_dir, 0755) < 0 && errno != EEXIST)
        die("cannot create %s: %s", sim_flash_dir, strerror(errno));
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", B.dir);
    snprintf(B.name, sizeof B.name, "%s", opt.name ? opt.name : basename(base));

    char err[512];
    if (sim_world_load(&sim_w, opt.world, err, sizeof err) < 0)
        die("bad world file: %s", err);

    /* one board per state folder */
    struct sockaddr_un sa;
    sock_path(B.dir, &sa);
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0)
        die("a board is already running in %s (simboard off --state %s stops it)", B.dir, B.dir);
    if (probe >= 0)
        close(probe);
    unlink(sa.sun_path);

    sim_sh = mmap(NULL, sizeof *sim_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sim_sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memset(sim_sh, 0, sizeof *sim_sh);   /* power-on: RTC memory is empty */
    sim_sh->battery_left_mAs = sim_w.battery_mAs;   /* a charged battery put in */
    for (int g = 0; g < SIM_NPINS; g++)
        sim_sh->ext_level[g] = -1;
    load_mac();

    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/events.jsonl", B.dir);
    sim_events_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (sim_events_fd < 0)
        die("%s: %s", path, strerror(errno));

    int cp[2], np[2];
    if (pipe2(cp, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(np, O_CLOEXEC | O_NONBLOCK) < 0)
        die("pipe: %s", strerror(errno));
    sim_console_fd = cp[0];
    B.console_w = cp[1];
    B.notify_r = np[0];
    sim_notify_fd = np[1];

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    B.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (B.sig_fd < 0)
        die("signalfd: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);

    B.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (B.listen_fd < 0 || bind(B.listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(B.listen_fd, 16) < 0)
        die("control socket %s: %s", sa.sun_path, strerror(errno));
    for (int i = 0; i < MAX_CLIENTS; i++)
        B.clients[i].fd = -1;

    B.interactive = isatty(STDIN_FILENO);
    if (B.interactive && tcgetattr(STDIN_FILENO, &B.saved_tty) == 0) {
        struct termios raw = B.saved_tty;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
        raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    } else {
        B.interactive = false;
    }

    const uint8_t *m = sim_sh->mac;
    char mac[18];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    sim_ev e;
    ev_begin(&e, "power");
    ev_bool(&e, "on", true);
    ev_str(&e, "name", B.name);
    ev_str(&e, "mac", mac);
    ev_str(&e, "world", sim_w.source);
    ev_int(&e, "pid", getpid());
    ev_end(&e);
    sim_say("power on: %s, MAC %s, flash %s, world %s", B.name, mac, sim_flash_dir, sim_w.source);
    if (B.interactive)
        help();
}

static void accept_clients(void)
{
    for (;;) {
        int fd = accept4(B.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        int i = 0;
        while (i < MAX_CLIENTS && B.clients[i].fd >= 0)
            i++;
        if (i == MAX_CLIENTS) {
            const char busy[] = "error the board is busy with other commands\n";
            if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL) < 0) {
            }
            close(fd);
            continue;
        }
        B.clients[i].fd = fd;
        B.clients[i].len = 0;
        B.clients[i].since = sim_now();
        B.clients[i].wait_mode = -1;
    }
}

static void read_client(int i)
{
    ssize_t n = read(B.clients[i].fd, B.clients[i].buf + B.clients[i].len,
                     sizeof B.clients[i].buf - 1 - B.clients[i].len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close(B.clients[i].fd);   /* a waiter that gave up */
        B.clients[i].fd = -1;
        return;
    }
    if (n < 0 || B.clients[i].wait_mode >= 0)
        return;
    B.clients[i].len += (size_t)n;
    B.clients[i].buf[B.clients[i].len] = 0;
    if (strchr(B.clients[i].buf, '\n'))
        command(i);
    else if (B.clients[i].len == sizeof B.clients[i].buf - 1)
        reply(i, "error request too long\n");
}

static void handle_signals(void)
{
    struct signalfd_siginfo si;
    while (read(B.sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo != SIGCHLD) {
            sim_say("%s: powering off", strsignal((int)si.ssi_signo));
            power_off(-1);
        }
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == B.child)
            child_exited(status);
}

static void timers(void)
{
    uint32_t now = sim_now();
    check_idle();
    if (B.release_at && (int32_t)(now - B.release_at) >= 0)
        release_button();
    if (B.child > 0 && (B.mode == MODE_RUNNING || B.mode == MODE_IDLE)) {
        uint32_t beat = __atomic_load_n(&sim_sh->heartbeat, __ATOMIC_RELAXED);
        if ((int32_t)(now - beat) > (int32_t)sim_w.wdt_ms) {
            kill_child();
            char why[64];
            snprintf(why, sizeof why, "watchdog not fed for %u ms", (unsigned)(now - beat));
            wake_ended_by_reset(HAL_RESET_WDT, "why", why);
            boot(HAL_RESET_WDT);
            return;
        }
    }
    if (B.mode == MODE_SLEEPING && B.wake_at && (int32_t)(now - B.wake_at) >= 0) {
        simple_event("timer", NULL, NULL);
        sim_say("deep-sleep timer fired");
        boot(HAL_RESET_DEEPSLEEP);
        return;
    }
    if (B.child == 0 && B.reboot_at && (int32_t)(now - B.reboot_at) >= 0)
        boot(HAL_RESET_EXCEPTION);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (B.clients[i].fd >= 0 && B.clients[i].wait_mode < 0 &&
            now - B.clients[i].since > CLIENT_IDLE_MS)
            reply(i, "error no request\n");
}

/* Wake up for the next timer, and at least every 100 ms to watch the watchdog. */
static int next_timeout(void)
{
    uint32_t now = sim_now();
    int32_t t = 100;
    uint32_t at[3] = {B.mode == MODE_SLEEPING ? B.wake_at : 0, B.child == 0 ? B.reboot_at : 0,
                      B.release_at};
    for (int i = 0; i < 3; i++)
        if (at[i] && (int32_t)(at[i] - now) < t)
            t = (int32_t)(at[i] - now);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (B.clients[i].fd >= 0 && B.clients[i].wait_mode >= 0 &&
            (int32_t)(B.clients[i].deadline - now) < t)
            t = (int32_t)(B.clients[i].deadline - now);
    return t < 0 ? 0 : t;
}

static int run_board(void)
{
    if (opt.arg)
        die("run takes no argument\n%s", usage);
    setup();
    if (opt.jumper)
        set_jumper(true);   /* in before the power, as for the set-up page (docs/portal.md) */
    boot(HAL_RESET_PWRON);
    for (;;) {
        struct pollfd p[4 + MAX_CLIENTS];
        int idx[4 + MAX_CLIENTS];
        nfds_t n = 0;
        p[n] = (struct pollfd){B.sig_fd, POLLIN, 0};
        idx[n++] = -1;
        p[n] = (struct pollfd){B.listen_fd, POLLIN, 0};
        idx[n++] = -2;
        p[n] = (struct pollfd){B.notify_r, POLLIN, 0};
        idx[n++] = -3;
        if (B.interactive) {
            p[n] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
            idx[n++] = -4;
        }
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (B.clients[i].fd >= 0) {
                p[n] = (struct pollfd){B.clients[i].fd, POLLIN, 0};
                idx[n++] = i;
            }
        int r = poll(p, n, next_timeout());
        if (r < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        for (nfds_t k = 0; r > 0 && k < n; k++) {
            if (!p[k].revents)
                continue;
            if (idx[k] == -1) {
                handle_signals();
            } else if (idx[k] == -2) {
                accept_clients();
            } else if (idx[k] == -3) {
                char buf[64];
                while (read(B.notify_r, buf, sizeof buf) > 0) {
                }
                check_idle();
            } else if (idx[k] == -4) {
                char c;
                ssize_t got = read(STDIN_FILENO, &c, 1);
                if (got == 1)
                    key(c);
                else if (got == 0)
                    B.interactive = false;
            } else if (B.clients[idx[k]].fd >= 0) {
                read_client(idx[k]);
            }
        }
        timers();
        check_waiters();
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (strcmp(opt.cmd, "run") == 0)
        return run_board();
    return run_client();
}
