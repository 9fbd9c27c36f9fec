/*
 * main.c - the chapter's main.py, in C.
 *
 *   def run():
 *       try:
 *           if machine.reset_cause() == machine.DEEPSLEEP_RESET:
 *               connect_wifi()
 *               call_webhook()
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
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "hal/hal.h"
#include "net/http.h"
#include "net/json.h"
#include "net/wlan.h"

static bh_config config;

/* What the chapter's exceptions carry: the function that failed, and why. */
static struct {
    const char *where;
    int code;
    char message[BH_HTTP_ERR_MAX + 64];
} error;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(const char *where, int code, const char *fmt, ...)
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

static int connect_wifi(void)
{
    char text[96];
    wlan_set_active(WLAN_AP, false);
    if (!wlan_isconnected(WLAN_STA)) {
        bh_printf("Connecting to WiFi...\n");
        wlan_set_active(WLAN_STA, true);
        wlan_connect(WLAN_STA, config.wifi_ssid, config.wifi_password, NULL);
        uint32_t start = hal_millis();
        while (!wlan_isconnected(WLAN_STA)) {
            int status = wlan_status(WLAN_STA);
            if (link_failure(status))
                return fail("connect_wifi", BH_ERR_NOLINK, "Wi-Fi '%s': %s (status %d)",
                            config.wifi_ssid, link_failure(status), status);
            if (hal_millis() - start >= (uint32_t)config.wifi_timeout * 1000u)
                return fail("connect_wifi", BH_ERR_TIMEOUT,
                            "Wi-Fi '%s': not connected after %d s (status %d)",
                            config.wifi_ssid, (int)config.wifi_timeout, status);
            /* the chapter sleeps 1 s between checks; a short poll ends the wake sooner */
            hal_delay_ms(50);
        }
    }
    hal_ipcfg ip;
    wlan_ifconfig(WLAN_STA, &ip);
    wlan_repr_ifconfig(text, sizeof text, &ip);
    bh_printf("Network config: %s\n", text);
    return BH_OK;
}

static int call_webhook(void)
{
    static char body[3 * BH_CFG_STR_MAX + 64];
    static http_response response;
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
        return fail("call_webhook", len, "JSON body too large (%d bytes max)", (int)sizeof body);

    http_request request = {
        .method = "POST",
        .url = config.webhook_url,
        .body = body,
        .body_len = (size_t)len,
        .content_type = "application/json",
        .ca_file = cfg_has(&config, CA_FILE) ? config.ca_file : NULL,
        .total_timeout_ms = (uint32_t)config.http_timeout * 1000u,
    };
    int err = http_do(&request, &response);
    if (err == BH_OK && response.status < 400) {
        bh_printf("Webhook invoked\n");
        return BH_OK;
    }
    bh_printf("Webhook failed\n");
    if (err != BH_OK)
        return fail("call_webhook", err, "%s", response.error);
    return fail("call_webhook", BH_ERR_PROTO, "HTTP %d %s from %s", response.status,
                response.reason, response.url);
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
    bh_printf("Traceback (most recent call last):\n  in run()\n  in %s()\n%s: %s\n",
              error.where, error.code == BH_ERR_TIMEOUT ? "TimeoutError" : "RuntimeError",
              error.message);
    hal_report("error", error.where, error.code, error.message);
}

static void config_diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    (void)is_error;
    bh_printf("%s\n", msg);
}

static void run(void)
{
    int err = cfg_load("config.py", &config, config_diag, NULL);
    if (err != BH_OK) {
        fail("load_config", err, "config.py has errors (see above); webhook not sent");
    } else if (hal_reset_cause() == HAL_RESET_DEEPSLEEP) {
        err = connect_wifi();
        if (err == BH_OK)
            err = call_webhook();
    }
    if (err != BH_OK) {
        print_exception();
        show_error();
    }
    if (!is_debug())
        hal_deep_sleep(0);
}

void app_main(void)
{
    wlan_init();
    run();
}
