/*
 * main.c - the chapter's main.py, in C.
 *
 *   def run():
 *       try:
 *           if machine.reset_cause() == machine.DEEPSLEEP_RESET:
 *               connect_wifi()
 *               call_webhook()          # here: send_presses(), every press kept
 *       except Exception as exc:
 *           sys.print_exception(exc)
 *           show_error()
 *       if not is_debug():
 *           machine.deepsleep()
 *
 * Where the original could hang or lose the reason for a failure, this one does better:
 * connect_wifi() gives up after WIFI_TIMEOUT seconds and says why (wrong password, no AP
 * found, connect failed), the request has connect and total timeouts, and every error is
 * printed with the function it happened in, the way sys.print_exception() shows a traceback.
 *
 * And it wakes faster (FAST_WAKE = 1, the default; docs/fast-wake.md): the AP, the DHCP lease
 * and the webhook host's address are kept in RTC memory (rtc_state.h), so the next press joins
 * without a scan or DHCP and skips the DNS look-up; when what was kept no longer holds, the
 * wake falls back to the chapter's full path by itself and still sends the press.
 *
 * And it loses no press (docs/press-queue.md): a press goes into a queue in RTC memory first
 * and leaves it only once the server answered it, so a press that could not be sent goes out
 * on the next wake, the next press's or a timed one's, in order, each with its own
 * Idempotency-Key so that one whose reply was lost is not fired twice. Whatever fails, the
 * wake ends within AWAKE_MAX seconds, and the next one says why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "app/rtc_state.h"
#include "hal/hal.h"
#include "net/http.h"
#include "net/json.h"
#include "net/wlan.h"

static bh_config config;

/* What the last wakes left in RTC memory, and the board's clock in seconds (rtc_state.h). */
static rtc_state rtc;
static uint32_t clock0_s;     /* the clock at this boot */
static bool dns_cached;       /* this wake used the cached address */
static bool lease_used;       /* this wake joined with the kept lease as a static address */

/* The presses not yet delivered (rtc_state.h), and when this wake's steps must be done. */
static press_queue queue;
static uint32_t deadline_ms;

static uint32_t clock_s(void)
{
    return clock0_s + hal_millis() / 1000;
}

/* Deep sleep as the board measured it, plus 1/16 for its clock's drift, rounded up: what was
 * kept expires early rather than late. A sleep of unknown length voids every time limit. */
static void rtc_begin(void)
{
    uint32_t ms;
    if (rtc_load(&rtc) == BH_ERR_PROTO || pq_load(&queue) == BH_ERR_PROTO)
        hal_report("info", "rtc", BH_ERR_PROTO, "RTC memory ignored");
    clock0_s = rtc.clock_s;
    dns_cached = lease_used = false;   /* nothing kept used yet (app_run() from a console) */
    if (hal_slept_ms(&ms) == BH_OK) {
        ms = ms / 1000 + 1;
        clock0_s += ms + ms / 16;
    } else {
        rtc.lease_until_s = rtc.dns_until_s = 0;
    }
}

static int resolve(const char *host, uint32_t *ip, uint32_t timeout_ms)
{
    uint32_t h = rtc_hash(host, NULL), ttl = 0, t0 = clock_s();
    if (rtc.dns_host == h && t0 < rtc.dns_until_s) {
        *ip = rtc.dns_ip;
        dns_cached = true;
        return BH_OK;
    }
    int rc = hal_dns_lookup_ttl(host, ip, &ttl, timeout_ms);
    if (rc == BH_OK && ttl) {
        rtc.dns_host = h;
        rtc.dns_ip = *ip;
        rtc.dns_until_s = t0 + ttl;
    }
    return rc;
}

/* What the chapter's exceptions carry: the function that failed (PQ_AT_*), and why. */
static const char *const step_name[] = {"run", "load_config", "connect_wifi", "call_webhook"};
static struct {
    int where;
    int code;
    int detail;   /* the link status, or the HTTP status */
    char message[BH_HTTP_ERR_MAX + 64];
} error;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(int where, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error.where = where;
    error.code = code;
    vsnprintf(error.message, sizeof error.message, fmt, ap);
    va_end(ap);
    return code;
}

static const char *link_failure(int status)
{
    switch (status) {
    case HAL_LINK_WRONG_PASSWORD: return "wrong password";
    case HAL_LINK_NO_AP_FOUND: return "no AP found";
    case HAL_LINK_CONNECT_FAIL: return "connect failed";
    default: return NULL;
    }
}

/* At most want ms, and none past this wake's bound (load_config()). */
static uint32_t time_left(uint32_t want)
{
    uint32_t now = hal_millis(), left = now < deadline_ms ? deadline_ms - now : 0;
    return want < left ? want : left;
}

/* Waits for an address: BH_OK, BH_ERR_NOLINK (the link failed: *status says how) or
 * BH_ERR_TIMEOUT. */
static int wait_link(uint32_t timeout_ms, int *status)
{
    uint32_t start = hal_millis();
    timeout_ms = time_left(timeout_ms);
    while (!wlan_isconnected(WLAN_STA)) {
        *status = wlan_status(WLAN_STA);
        if (link_failure(*status))
            return BH_ERR_NOLINK;
        if (hal_millis() - start >= timeout_ms)
            return BH_ERR_TIMEOUT;
        /* the chapter sleeps 1 s between checks; a short poll ends the wake sooner */
        hal_delay_ms(10);
    }
    return BH_OK;
}

/* The AP of the last good join, on its channel (no scan), with its lease as a static address
 * (no DHCP) while the lease is safely valid. False: not possible, or it failed. */
static bool fast_join(uint32_t key)
{
    int status = HAL_LINK_CONNECTING;
    if (!rtc.channel || rtc.wifi_key != key)
        return false;
    lease_used = clock_s() < rtc.lease_until_s;
    hal_join_params p = {config.wifi_ssid, config.wifi_password, rtc.bssid, rtc.channel,
                         lease_used ? &rtc.lease : NULL, NULL};
    /* twice as long with DHCP, which takes a second or more on a real router */
    if (hal_radio_join(&p) == BH_OK &&
        wait_link(BH_FAST_JOIN_TIMEOUT_MS << !lease_used, &status) == BH_OK)
        return true;
    lease_used = false;
    bh_printf("Fast join failed (status %d): scanning\n", status);
    hal_report("wifi", "fast_join", status, "full join");
    rtc.channel = 0;
    rtc.lease_until_s = 0;
    return false;
}

/* Keeps the AP and the lease of the join just made for the next wake. A lease is used only
 * until half its time (T1, when a DHCP client would renew it). */
static void remember_join(uint32_t key, uint32_t joined_s)
{
    hal_ipcfg ip;
    int8_t rssi;
    rtc.wifi_key = key;
    if (hal_radio_assoc(rtc.bssid, &rtc.channel, &rssi) != BH_OK)
        rtc.channel = 0;
    if (hal_radio_ipcfg(&ip) == BH_OK && ip.lease_s) {
        rtc.lease = ip;
        rtc.lease.lease_s = 0;
        rtc.lease_until_s = joined_s + ip.lease_s / 2;
    }
}

static int connect_wifi(void)
{
    char text[96];
    wlan_set_active(WLAN_AP, false);
    if (!wlan_isconnected(WLAN_STA)) {
        bh_printf("Connecting to WiFi...\n");
        wlan_set_active(WLAN_STA, true);
        uint32_t key = rtc_hash(config.wifi_ssid, config.wifi_password), t0 = clock_s();
        if (!config.fast_wake || !fast_join(key)) {
            int status = HAL_LINK_CONNECTING;
            wlan_connect(WLAN_STA, config.wifi_ssid, config.wifi_password, NULL);
            uint32_t t = time_left((uint32_t)config.wifi_timeout * 1000u);
            int err = wait_link(t, &status);
            error.detail = status;
            if (err == BH_ERR_NOLINK)
                return fail(PQ_AT_WIFI, err, "Wi-Fi '%s': %s (status %d)",
                            config.wifi_ssid, link_failure(status), status);
            if (err)
                return fail(PQ_AT_WIFI, err,
                            "Wi-Fi '%s': not connected after %d s (status %d)",
                            config.wifi_ssid, (int)(t / 1000), status);
        }
        remember_join(key, t0);
    }
    hal_ipcfg ip;
    wlan_ifconfig(WLAN_STA, &ip);
    wlan_repr_ifconfig(text, sizeof text, &ip);
    bh_printf("Network config: %s\n", text);
    return BH_OK;
}

static http_response response;

/* The time the request may take; 0 (the awake bound is reached) would mean http.c's default */
static uint32_t http_time(void)
{
    uint32_t t = time_left((uint32_t)config.http_timeout * 1000u);
    return t ? t : 1;
}

static int call_webhook(const char *key)
{
    static char body[3 * BH_CFG_STR_MAX + 64];
    json_writer w;

    bh_printf("Invoking webhook\n");
    json_begin(&w, body, sizeof body);
    json_str(&w, "value1", config.button_id);
    if (cfg_has(&config, VALUE2))
        json_str(&w, "value2", config.value2);
    if (cfg_has(&config, VALUE3))
        json_str(&w, "value3", config.value3);
    int len = json_end(&w);
    if (len < 0)
        return fail(PQ_AT_WEBHOOK, len, "JSON body too large (%d bytes max)", (int)sizeof body);
    /* the press's id: a repeat of a request whose reply was lost is the same event to hookd */
    http_header idem = {"Idempotency-Key", key};

    http_request request = {
        .method = "POST",
        .url = config.webhook_url,
        .body = body,
        .body_len = (size_t)len,
        .content_type = "application/json",
        .headers = &idem,
        .nheaders = key != NULL,
        .ca_file = cfg_has(&config, CA_FILE) ? config.ca_file : NULL,
        .total_timeout_ms = http_time(),
        .resolve = config.fast_wake ? resolve : NULL,
        .status_only = true,   /* the status line is all a press needs: sleep sooner */
        .tls_resume = config.fast_wake,   /* https: a short handshake (docs/fast-wake.md) */
    };
    int err = http_do(&request, &response);
    /* Nothing reached a server over what was kept: forget it and ask once more (nothing was
     * sent, so the press still arrives once). A cached address may be stale (the host moved
     * within its TTL); the kept lease only when nothing answered at all (the router no longer
     * routes it): then join the full way first. A refusal came back over it: it works. */
    bool unrouted = lease_used && (err == BH_ERR_TIMEOUT || err == BH_ERR_UNREACH);
    if (err != BH_OK && (dns_cached || unrouted) && response.bytes_sent == 0) {
        rtc.dns_host = 0;
        dns_cached = false;
        if (unrouted) {
            lease_used = false;
            rtc.channel = 0;
            rtc.lease_until_s = 0;
            wlan_disconnect(WLAN_STA);
            if ((err = connect_wifi()) != BH_OK)
                return err;
        }
        request.total_timeout_ms = http_time();
        err = http_do(&request, &response);
    }
    if (err == BH_OK && response.status < 400) {
        bh_printf("Webhook invoked\n");
        return BH_OK;
    }
    bh_printf("Webhook failed\n");
    error.detail = response.status;
    if (err != BH_OK)
        return fail(PQ_AT_WEBHOOK, err, "%s", response.error);
    return fail(PQ_AT_WEBHOOK, BH_ERR_PROTO, "HTTP %d %s from %s", response.status,
                response.reason, response.url);
}

/* The kept presses, oldest first, each with its id as Idempotency-Key; one leaves the queue
 * (in RTC memory at once) only when the server has answered it. The first failure ends the
 * round: the rest keep their order for the next wake. Whatever failed, it is retried: every
 * byte of the request comes from config.py, so a 4xx is a config.py to fix, not a bad press. */
static int send_presses(void)
{
    char key[40];
    uint8_t m[6];
    int err = BH_OK;
    hal_radio_mac(m);
    for (int i = 0; i < 6; i++)
        snprintf(key + 2 * i, 3, "%02x", m[i]);
    while (queue.count && err == BH_OK) {
        /* MAC, the queue's random id, the press's number: "18fe34d37fa4-5d2c9a01-7" */
        snprintf(key + 12, sizeof key - 12, "-%08lx-%lu", (unsigned long)queue.boot_id,
                 (unsigned long)queue.seq[0]);
        err = call_webhook(key);
        if (err == BH_OK) {
            pq_pop(&queue);
            queue.retries = 0;
            pq_save(&queue);
        }
    }
    return err;
}

/* A press: kept before anything is tried. A timed retry wake is also a DEEPSLEEP_RESET through
 * the RST pin on an ESP8266, so it is told apart by its length: a sleep that lasted as long as
 * the timer was set for (less 1/32 for the clock's drift) was the timer. */
static void press(void)
{
    uint32_t ms, armed = queue.armed_ms;
    if (armed && hal_slept_ms(&ms) == BH_OK && ms >= armed - armed / 32) {
        bh_printf("Retry wake: %d kept\n", queue.count);
        return;
    }
    if (queue.count == PQ_MAX)
        hal_report("info", "queue", BH_ERR_NOMEM, "queue full: oldest press dropped");
    pq_push(&queue);
    queue.retries = 0;
    pq_save(&queue);
}

/* The next wake's timer while presses are kept: RETRY_WAKE s, doubled each time up to an hour,
 * BH_RETRY_WAKES times; then only a press retries (the battery: docs/press-queue.md). */
static uint32_t retry_ms(void)
{
    uint32_t s = 0;
    if (queue.count && config.retry_wake && queue.retries < BH_RETRY_WAKES) {
        s = (uint32_t)config.retry_wake << queue.retries++;
        if (s > BH_RETRY_MAX_S)
            s = BH_RETRY_MAX_S;
    }
    return queue.armed_ms = s * 1000u;
}

/* How the last wake ended, if it failed: the reason and how many presses are still kept. */
static void last_wake(void)
{
    char text[80];
    int code = queue.last_err, at = queue.last_where & 3, d = queue.last_detail;
    const char *why = at == PQ_AT_WIFI ? link_failure(d) : d ? "HTTP status" : NULL;
    if (!code)
        return;
    snprintf(text, sizeof text, "%s: %s (%d); %d kept", step_name[at],
             why ? why : bh_strerror(code), d ? d : code, queue.count);
    bh_printf("Last wake failed in %s\n", text);
    hal_report("info", "last_wake", code, text);
}

static void show_error(void)
{
    int led = config.led_pin, led2 = config.led2_pin;
    hal_pin_mode(led, HAL_PIN_OUT, HAL_PULL_NONE);
    hal_pin_mode(led2, HAL_PIN_OUT, HAL_PULL_NONE);
    for (int i = 0; i < 3; i++) {
        hal_pin_write(led, 1);
        hal_pin_write(led2, 0);
        hal_delay_ms(500);
        hal_pin_write(led, 0);
        hal_pin_write(led2, 1);
        hal_delay_ms(500);
    }
    hal_pin_write(led, 1);
    hal_pin_write(led2, 1);
}

static bool is_debug(void)
{
    hal_pin_mode(config.debug_pin, HAL_PIN_IN, HAL_PULL_UP);
    if (hal_pin_read(config.debug_pin) == 0) {
        bh_printf("Debug mode detected.\n");
        return true;
    }
    return false;
}

/* sys.print_exception(): where it happened, then what. */
static void print_exception(void)
{
    const char *where = step_name[error.where];
    bh_printf("Traceback (most recent call last):\n  in run()\n  in %s()\n%s: %s\n", where,
              error.code == BH_ERR_TIMEOUT ? "TimeoutError" : "RuntimeError", error.message);
    hal_report("error", where, error.code, error.message);
}

static void config_diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    (void)is_error;
    bh_printf("%s\n", msg);
}

/* Reads config.py; the steps that follow end AWAKE_MAX s from now, less the blink and the
 * way to sleep (BH_WAKE_END_MS). */
static int load_config(void)
{
    int err = cfg_load("config.py", &config, config_diag, NULL);
    deadline_ms = hal_millis() + (uint32_t)config.awake_max * 1000u - BH_WAKE_END_MS;
    error.detail = 0;
    if (err != BH_OK)
        fail(PQ_AT_CONFIG, err, "config.py has errors (see above)");
    return err;
}

static void run(void)
{
    int err = load_config();
    rtc_begin();
    last_wake();
    if (hal_reset_cause() == HAL_RESET_DEEPSLEEP) {
        press();
        if (err == BH_OK)
            err = connect_wifi();
        if (err == BH_OK)
            err = send_presses();
    }
    if (err != BH_OK) {
        print_exception();
        show_error();
    }
    queue.last_err = (int8_t)err;
    queue.last_where = (uint8_t)(err ? error.where : 0);
    queue.last_detail = (uint16_t)error.detail;
    uint32_t ms = retry_ms();
    pq_save(&queue);
    if (config.fast_wake) {
        rtc.clock_s = clock_s() + 1;   /* and the moment until the sleep starts */
        rtc_save(&rtc);
    }
    if (!is_debug())
        hal_deep_sleep(ms);
}

void app_main(void)
{
    wlan_init();
    run();
}

/* ---- The same steps, typed at the console (firmware/console/console.c) ----------------------- */

int app_connect_wifi(void)
{
    int err = load_config();
    if (err == BH_OK)
        err = connect_wifi();
    if (err != BH_OK)
        print_exception();
    return err;
}

/* A webhook fired from the console is no press: no Idempotency-Key, nothing queued. */
int app_call_webhook(void)
{
    int err = load_config();
    if (err == BH_OK)
        err = call_webhook(NULL);
    if (err != BH_OK)
        print_exception();
    return err;
}

void app_run(void)
{
    run();
}
