/* testboard.c - the test board: hal.h in memory, a fake clock, scripted radio and peers. */
#include "testboard.h"

#include "app/app.h"

#include <stdio.h>
#include <string.h>

uint32_t tb_now_ms;
hal_reset_cause_t tb_reset_cause;
int tb_pin_input[17];
uint32_t tb_pin_release_ms[17];
int tb_pin_out[17];
static int pin_mode[17];
tb_pin_event tb_pinlog[TB_MAX_PINLOG];
int tb_npinlog;
uint8_t tb_rtc[HAL_RTC_SIZE];
int64_t tb_slept_for_ms;
int tb_supply_mv;
uint32_t tb_random_seed = 1;
static uint32_t rnd_state;
int tb_join_bssid, tb_join_channel, tb_join_static;
uint32_t tb_dns_ttl;
jmp_buf tb_exit;
int tb_slept, tb_soft_reset;
uint32_t tb_sleep_ms;
char tb_console[TB_IO_MAX];
size_t tb_console_len;
static char console_in[TB_IO_MAX];
static size_t console_in_len, console_in_pos;
size_t tb_fs_capacity;
uint32_t tb_join_ms;
int tb_join_fail;
int tb_scans, tb_joins;
hal_ipcfg tb_lease;
int tb_ap_active, tb_sta_active;
tb_peer tb_peers[TB_MAX_PEERS];
int tb_npeers;
int tb_dns_lookups, tb_connects;
char tb_reports[TB_IO_MAX];
int tb_failures;

typedef struct { char name[64]; char data[TB_IO_MAX]; size_t len; int used; } tb_file;
static tb_file files[TB_MAX_FILES];

typedef struct { char ssid[33]; char password[65]; hal_ap_info info; } tb_ap;
static tb_ap aps[TB_MAX_APS];
static int naps;

typedef struct { char host[128]; uint32_t ip; } tb_name;
static tb_name names[16];
static int nnames;

static hal_link_t link_state;
static uint32_t join_done_at;
static hal_ipcfg sta_ip;
static int static_ip;
static uint8_t assoc_bssid[6], assoc_channel;
static int8_t assoc_rssi;

/* socket s is an index into tb_peers, with how far its reply has been read */
static size_t reply_pos[TB_MAX_PEERS];
static int listener_open;

void tb_reset(void)
{
    tb_now_ms = 0;
    tb_reset_cause = HAL_RESET_PWRON;
    for (int i = 0; i < 17; i++) { tb_pin_input[i] = 1; tb_pin_out[i] = -1; pin_mode[i] = -1; }
    memset(tb_pin_release_ms, 0, sizeof tb_pin_release_ms);
    tb_npinlog = 0;
    memset(tb_rtc, 0, sizeof tb_rtc);
    tb_slept_for_ms = -1;
    tb_supply_mv = 3300;
    rnd_state = tb_random_seed ? tb_random_seed : 1;
    tb_join_bssid = tb_join_channel = tb_join_static = 0;
    tb_dns_ttl = 300;
    tb_slept = tb_soft_reset = 0;
    tb_sleep_ms = 0;
    tb_console_len = 0;
    tb_console[0] = 0;
    console_in_len = console_in_pos = 0;
    tb_fs_capacity = 64 * 1024;
    memset(files, 0, sizeof files);
    naps = 0;
    tb_join_ms = 1000;
    tb_join_fail = 0;
    tb_scans = tb_joins = 0;
    tb_lease = (hal_ipcfg){0xC0A8002D, 0xFFFFFF00, 0xC0A80001, 0xC0A80001, 7200};
    tb_ap_active = 1;
    tb_sta_active = 0;
    memset(tb_peers, 0, sizeof tb_peers);
    memset(reply_pos, 0, sizeof reply_pos);
    tb_npeers = 0;
    nnames = 0;
    tb_dns_lookups = tb_connects = 0;
    tb_reports[0] = 0;
    tb_secret[0] = 0;
    link_state = HAL_LINK_IDLE;
    static_ip = 0;
    listener_open = 0;
}

/* ---- harness ---- */
void tb_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
    tb_failures++;
}
void tb_fail_str(const char *file, int line, const char *expr, const char *got, const char *want)
{
    fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n", file, line, expr,
            got ? got : "(null)", want ? want : "(null)");
    tb_failures++;
}
void tb_fail_int(const char *file, int line, const char *expr, long got, long want)
{
    fprintf(stderr, "%s:%d: %s: got %ld, want %ld\n", file, line, expr, got, want);
    tb_failures++;
}
int tb_done(const char *name)
{
    printf("%s: %d failure%s\n", name, tb_failures, tb_failures == 1 ? "" : "s");
    return tb_failures ? 1 : 0;
}

/* ---- time: only moves when the firmware waits ---- */
uint32_t hal_millis(void) { return tb_now_ms; }
void hal_delay_ms(uint32_t ms) { tb_now_ms += ms; }
void hal_wdt_feed(void) {}

/* ---- pins ---- */
bool hal_pin_valid(int gpio)
{
    return (gpio >= 0 && gpio <= 5) || gpio == 9 || gpio == 10 || (gpio >= 12 && gpio <= 16);
}
int hal_pin_mode(int gpio, int mode, int pull)
{
    (void)pull;
    if (!hal_pin_valid(gpio)) return BH_ERR_ARG;
    pin_mode[gpio] = mode;
    return BH_OK;
}
int hal_pin_write(int gpio, int value)
{
    if (!hal_pin_valid(gpio)) return BH_ERR_ARG;
    tb_pin_out[gpio] = value ? 1 : 0;
    if (tb_npinlog < TB_MAX_PINLOG)
        tb_pinlog[tb_npinlog++] = (tb_pin_event){tb_now_ms, gpio, value ? 1 : 0};
    return BH_OK;
}
int hal_pin_read(int gpio)
{
    if (!hal_pin_valid(gpio)) return BH_ERR_ARG;
    if (pin_mode[gpio] == HAL_PIN_OUT && tb_pin_out[gpio] >= 0) return tb_pin_out[gpio];
    if (tb_pin_release_ms[gpio] && tb_now_ms >= tb_pin_release_ms[gpio]) return 1;
    return tb_pin_input[gpio];
}

/* ---- reset, sleep ---- */
hal_reset_cause_t hal_reset_cause(void) { return tb_reset_cause; }
_Noreturn void hal_deep_sleep(uint32_t ms)
{
    tb_slept = 1;
    tb_sleep_ms = ms;
    longjmp(tb_exit, 1);
}
_Noreturn void hal_reset(void)
{
    tb_soft_reset = 1;
    longjmp(tb_exit, 2);
}

int hal_slept_ms(uint32_t *ms)
{
    if (tb_slept_for_ms < 0) return BH_ERR_UNSUPPORTED;
    *ms = (uint32_t)tb_slept_for_ms;
    return BH_OK;
}

/* ---- supply ---- */
int hal_supply_mv(uint16_t *mv)
{
    if (tb_supply_mv < 0) return BH_ERR_UNSUPPORTED;
    *mv = (uint16_t)tb_supply_mv;
    return BH_OK;
}

/* ---- RTC ---- */
int hal_rtc_read(size_t off, void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off) return BH_ERR_ARG;
    memcpy(buf, tb_rtc + off, len);
    return BH_OK;
}
int hal_rtc_write(size_t off, const void *buf, size_t len)
{
    if (off > HAL_RTC_SIZE || len > HAL_RTC_SIZE - off) return BH_ERR_ARG;
    memcpy(tb_rtc + off, buf, len);
    return BH_OK;
}

/* ---- console ---- */
void hal_console_write(const char *s, size_t len)
{
    if (len > sizeof tb_console - 1 - tb_console_len) len = sizeof tb_console - 1 - tb_console_len;
    memcpy(tb_console + tb_console_len, s, len);
    tb_console_len += len;
    tb_console[tb_console_len] = 0;
}
/* the terminal shows the secret as it is; tb_secret collects what came this way */
char tb_secret[256];
void hal_console_write_secret(const char *s, size_t len)
{
    hal_console_write(s, len);
    size_t have = strlen(tb_secret);
    if (len > sizeof tb_secret - 1 - have) len = sizeof tb_secret - 1 - have;
    memcpy(tb_secret + have, s, len);
    tb_secret[have + len] = 0;
}
void tb_console_input(const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof console_in - console_in_len) n = sizeof console_in - console_in_len;
    memcpy(console_in + console_in_len, s, n);
    console_in_len += n;
}
int hal_console_read(char *buf, size_t cap, uint32_t timeout_ms)
{
    size_t n = console_in_len - console_in_pos;
    if (n == 0) { tb_now_ms += timeout_ms; return 0; }
    if (n > cap) n = cap;
    memcpy(buf, console_in + console_in_pos, n);
    console_in_pos += n;
    return (int)n;
}

/* ---- flash ---- */
static tb_file *find_file(const char *name)
{
    for (int i = 0; i < TB_MAX_FILES; i++)
        if (files[i].used && strcmp(files[i].name, name) == 0) return &files[i];
    return NULL;
}
static size_t flash_used(void)
{
    size_t n = 0;
    for (int i = 0; i < TB_MAX_FILES; i++) if (files[i].used) n += files[i].len;
    return n;
}
int tb_fs_put(const char *name, const char *text)
{
    return hal_fs_write(name, 0, text, strlen(text));
}
const char *tb_fs_get(const char *name)
{
    tb_file *f = find_file(name);
    return f ? f->data : NULL;
}
int hal_fs_size(const char *name)
{
    tb_file *f = find_file(name);
    return f ? (int)f->len : BH_ERR_NOENT;
}
int hal_fs_read(const char *name, uint32_t off, void *buf, size_t len)
{
    tb_file *f = find_file(name);
    if (!f) return BH_ERR_NOENT;
    if (off >= f->len) return 0;
    if (len > f->len - off) len = f->len - off;
    memcpy(buf, f->data + off, len);
    return (int)len;
}
int hal_fs_write(const char *name, uint32_t off, const void *buf, size_t len)
{
    if (!name[0] || strlen(name) >= sizeof files[0].name) return BH_ERR_ARG;
    tb_file *f = find_file(name);
    if (off == 0) {
        if (!f) {
            for (int i = 0; i < TB_MAX_FILES && !f; i++) if (!files[i].used) f = &files[i];
            if (!f) return BH_ERR_FULL;
            memset(f, 0, sizeof *f);
            f->used = 1;
            strcpy(f->name, name);
        }
        f->len = 0;
    } else if (!f || off != f->len) {
        return BH_ERR_ARG;
    }
    if (f->len + len >= sizeof f->data || flash_used() + len > tb_fs_capacity) return BH_ERR_FULL;
    memcpy(f->data + f->len, buf, len);
    f->len += len;
    f->data[f->len] = 0;
    return BH_OK;
}
int hal_fs_remove(const char *name)
{
    tb_file *f = find_file(name);
    if (!f) return BH_ERR_NOENT;
    f->used = 0;
    return BH_OK;
}
int hal_fs_list(int index, char *name, size_t cap)
{
    for (int i = 0; i < TB_MAX_FILES; i++) {
        if (!files[i].used) continue;
        if (index-- == 0) {
            if (strlen(files[i].name) >= cap) return BH_ERR_NOMEM;
            strcpy(name, files[i].name);
            return BH_OK;
        }
    }
    return BH_ERR_NOENT;
}

/* ---- radio ---- */
int tb_add_ap(const char *ssid, const char *password, uint8_t channel, int8_t rssi,
              uint8_t authmode, int hidden)
{
    if (naps >= TB_MAX_APS) return BH_ERR_NOMEM;
    tb_ap *a = &aps[naps];
    memset(a, 0, sizeof *a);
    snprintf(a->ssid, sizeof a->ssid, "%s", ssid);
    snprintf(a->password, sizeof a->password, "%s", password);
    snprintf(a->info.ssid, sizeof a->info.ssid, "%s", hidden ? "" : ssid);
    uint8_t bssid[6] = {0xa0, 0x40, 0xa0, 0x91, 0x7d, (uint8_t)(0xa0 + naps)};
    memcpy(a->info.bssid, bssid, 6);
    a->info.channel = channel;
    a->info.rssi = rssi;
    a->info.authmode = authmode;
    a->info.hidden = hidden ? 1 : 0;
    return naps++;
}
void tb_ap_set_channel(int ap, uint8_t channel)
{
    aps[ap].info.channel = channel;
}
/* Reproducible: each tb_reset() starts the same sequence from tb_random_seed. */
void hal_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len--) {
        rnd_state ^= rnd_state << 13;
        rnd_state ^= rnd_state >> 17;
        rnd_state ^= rnd_state << 5;
        *p++ = (uint8_t)(rnd_state >> 24);
    }
}

void hal_radio_mac(uint8_t mac[6])
{
    static const uint8_t m[6] = {0x18, 0xfe, 0x34, 0xd3, 0x7f, 0xa4};
    memcpy(mac, m, 6);
}
int hal_radio_sta_active(bool on)
{
    tb_sta_active = on;
    if (!on) link_state = HAL_LINK_IDLE;
    return BH_OK;
}
int hal_radio_scan(hal_ap_info *out, int max)
{
    if (!tb_sta_active) return BH_ERR_STATE;
    tb_scans++;
    tb_now_ms += 1500;
    int n = 0;
    for (int i = 0; i < naps && n < max; i++) out[n++] = aps[i].info;
    return n;
}
int hal_radio_join(const hal_join_params *p)
{
    if (!tb_sta_active) return BH_ERR_STATE;
    tb_joins++;
    tb_join_bssid = p->bssid != NULL;
    tb_join_channel = p->channel;
    tb_join_static = p->static_ip != NULL;
    join_done_at = tb_now_ms + tb_join_ms;
    link_state = HAL_LINK_NO_AP_FOUND;
    for (int i = 0; i < naps; i++) {
        if (strcmp(aps[i].ssid, p->ssid) != 0) continue;
        if (p->bssid && memcmp(p->bssid, aps[i].info.bssid, 6) != 0) continue;
        if (p->channel && p->channel != aps[i].info.channel) continue;
        if (tb_join_fail) link_state = HAL_LINK_CONNECT_FAIL;
        else if (aps[i].info.authmode != HAL_AUTH_OPEN && strcmp(aps[i].password, p->password) != 0)
            link_state = HAL_LINK_WRONG_PASSWORD;
        else {
            link_state = HAL_LINK_GOT_IP;
            memcpy(assoc_bssid, aps[i].info.bssid, 6);
            assoc_channel = aps[i].info.channel;
            assoc_rssi = aps[i].info.rssi;
        }
        break;
    }
    static_ip = p->static_ip != NULL;
    sta_ip = p->static_ip ? *p->static_ip : tb_lease;
    return BH_OK;
}
hal_link_t hal_radio_link(void)
{
    if (link_state == HAL_LINK_IDLE) return HAL_LINK_IDLE;
    if (tb_now_ms < join_done_at) return HAL_LINK_CONNECTING;
    return link_state;
}
int hal_radio_leave(void)
{
    link_state = HAL_LINK_IDLE;
    return BH_OK;
}
int hal_radio_ipcfg(hal_ipcfg *out)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP) return BH_ERR_NOLINK;
    *out = sta_ip;
    return BH_OK;
}
int hal_radio_set_ipcfg(const hal_ipcfg *cfg)
{
    sta_ip = *cfg;
    sta_ip.lease_s = 0;
    static_ip = 1;
    return BH_OK;
}
int hal_radio_assoc(uint8_t bssid[6], uint8_t *channel, int8_t *rssi)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP) return BH_ERR_NOLINK;
    memcpy(bssid, assoc_bssid, 6);
    *channel = assoc_channel;
    *rssi = assoc_rssi;
    return BH_OK;
}
int hal_radio_ap(bool active, const hal_ap_params *p)
{
    (void)p;
    tb_ap_active = active;
    return BH_OK;
}
int hal_radio_ap_stations(void) { return 0; }

/* ---- sockets ---- */
int tb_dns_add(const char *host, uint32_t ip)
{
    if (nnames >= 16) return BH_ERR_NOMEM;
    snprintf(names[nnames].host, sizeof names[nnames].host, "%s", host);
    names[nnames++].ip = ip;
    return BH_OK;
}
tb_peer *tb_add_peer(uint32_t ip, uint16_t port, const char *reply)
{
    if (tb_npeers >= TB_MAX_PEERS) return NULL;
    tb_peer *p = &tb_peers[tb_npeers++];
    memset(p, 0, sizeof *p);
    p->ip = ip;
    p->port = port;
    p->reply = reply;
    return p;
}
int hal_dns_lookup(const char *host, uint32_t *ip, uint32_t timeout_ms)
{
    return hal_dns_lookup_ttl(host, ip, NULL, timeout_ms);
}
int hal_dns_lookup_ttl(const char *host, uint32_t *ip, uint32_t *ttl_s, uint32_t timeout_ms)
{
    (void)timeout_ms;
    if (ttl_s) *ttl_s = 0;
    tb_dns_lookups++;
    if (hal_radio_link() != HAL_LINK_GOT_IP) return BH_ERR_NOLINK;
    unsigned a, b, c, d;
    char tail;
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 && b < 256 &&
        c < 256 && d < 256) {
        *ip = a << 24 | b << 16 | c << 8 | d;
        return BH_OK;
    }
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i].host, host) == 0) {
            *ip = names[i].ip;
            if (ttl_s) *ttl_s = tb_dns_ttl;
            return BH_OK;
        }
    tb_now_ms += 20;
    return BH_ERR_DNS;
}
int hal_tcp_connect(uint32_t ip, uint16_t port, uint32_t timeout_ms)
{
    tb_connects++;
    if (hal_radio_link() != HAL_LINK_GOT_IP) return BH_ERR_NOLINK;
    for (int i = 0; i < tb_npeers; i++) {
        tb_peer *p = &tb_peers[i];
        if (p->used || p->ip != ip || p->port != port) continue;
        p->used = 1;
        if (p->connect_err == BH_ERR_TIMEOUT) { tb_now_ms += timeout_ms; return BH_ERR_TIMEOUT; }
        if (p->connect_err) return p->connect_err;
        tb_now_ms += 5;
        return i;
    }
    return BH_ERR_REFUSED;   /* nobody listens there */
}
static tb_peer *sock(int s)
{
    return (s >= 0 && s < tb_npeers && tb_peers[s].used && !tb_peers[s].closed) ? &tb_peers[s]
                                                                                  : NULL;
}
int hal_tcp_send(int s, const void *buf, size_t len, uint32_t timeout_ms)
{
    (void)timeout_ms;
    tb_peer *p = sock(s);
    if (!p) return BH_ERR_ARG;
    if (len > sizeof p->sent - 1 - p->sent_len) return BH_ERR_RESET;
    memcpy(p->sent + p->sent_len, buf, len);
    p->sent_len += len;
    p->sent[p->sent_len] = 0;
    return (int)len;
}
int hal_tcp_recv(int s, void *buf, size_t cap, uint32_t timeout_ms)
{
    tb_peer *p = sock(s);
    if (!p) return BH_ERR_ARG;
    size_t total = p->reply ? (p->reply_len ? p->reply_len : strlen(p->reply)) : 0;
    size_t left = total - reply_pos[s];
    if (left == 0) {
        if (p->stall) { tb_now_ms += timeout_ms; return BH_ERR_TIMEOUT; }
        return 0;
    }
    size_t n = left < cap ? left : cap;
    if (p->chunk && n > p->chunk) n = p->chunk;
    memcpy(buf, p->reply + reply_pos[s], n);
    reply_pos[s] += n;
    tb_now_ms += 1;
    return (int)n;
}
void hal_tcp_close(int s)
{
    tb_peer *p = sock(s);
    if (p) p->closed = 1;
}
int hal_tcp_listen(uint16_t port)
{
    (void)port;
    listener_open = 1;
    return 100;
}
tb_peer *tb_add_client(const char *data, size_t len)
{
    tb_peer *p = tb_add_peer(0, 0, data);
    if (p) p->reply_len = len;
    return p;
}
int hal_tcp_accept(int listener, uint32_t timeout_ms)
{
    (void)listener;
    for (int i = 0; listener_open && i < tb_npeers; i++) {
        tb_peer *p = &tb_peers[i];
        if (p->used || p->ip != 0 || p->port != 0) continue;
        p->used = 1;
        return i;
    }
    tb_now_ms += timeout_ms;
    return BH_ERR_TIMEOUT;
}
int hal_tls_start(int s, const hal_tls_params *prm, uint32_t timeout_ms)
{
    (void)timeout_ms;
    tb_peer *p = sock(s);
    if (!p) return BH_ERR_ARG;
    p->tls = 1;
    p->tls_resume = prm->resume;
    snprintf(p->tls_host, sizeof p->tls_host, "%s", prm->host ? prm->host : "");
    return p->tls_err ? p->tls_err : BH_OK;
}

/* ---- reports ---- */
void hal_report(const char *kind, const char *where, int code, const char *text)
{
    size_t n = strlen(tb_reports);
    snprintf(tb_reports + n, sizeof tb_reports - n, "%s %s %d %s\n", kind, where ? where : "-",
             code, text ? text : "");
}

/* ---- the shared set-up ---- */

const char TB_CONFIG[] =
    "WIFI_SSID = 'home-net'\n"
    "WIFI_PASSWORD = \"correct horse\"\n"
    "WEBHOOK_URL = 'http://hooks.example/trigger/button_pressed/with/key/abc'\n"
    "BUTTON_ID = 'micropython1'\n";

const char TB_OK_REPLY[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 54\r\n\r\n"
    "Congratulations! You've fired the button_pressed event";

int tb_home(const char *config, uint32_t hook_ip)
{
    tb_fs_put("config.py", config);
    int ap = tb_add_ap("home-net", "correct horse", 6, -58, HAL_AUTH_WPA2_PSK, 0);
    tb_dns_add("hooks.example", hook_ip);
    return ap;
}

void tb_wake(hal_reset_cause_t cause, int64_t slept_ms)
{
    static uint8_t rtc[HAL_RTC_SIZE];
    memcpy(rtc, tb_rtc, sizeof rtc);
    tb_reset();
    if (cause != HAL_RESET_PWRON)
        memcpy(tb_rtc, rtc, sizeof rtc);
    tb_reset_cause = cause;
    tb_slept_for_ms = slept_ms;
}

void tb_boot(void)
{
    if (setjmp(tb_exit) == 0)
        app_main();
}
