/*
 * main.c - the chapter's main.py in C, to read beside it: connect_wifi(), call_webhook(),
 * show_error(), is_debug(), run(). What the chapter lacks is a call to a file of its own:
 * awake.c (every wait bounded by AWAKE_MAX), fastwake.c (the last join's AP and lease kept),
 * dnscache.c (the host's address kept), presses.c (each press kept until answered), retry.c
 * (the timer that sends what is kept), apperr.c (the exceptions), payload.c (the JSON body
 * and its placeholders), feedback.c (the LEDs' success and low-battery patterns).
 */
#include "app/app.h"
#include "app/apperr.h"
#include "app/awake.h"
#include "app/fastwake.h"
#include "app/feedback.h"
#include "app/payload.h"
#include "app/presses.h"
#include "app/scratch.h"
#include "net/http.h"
#include "net/wlan.h"

static bh_config config;

static int connect_wifi(void)
{
    char text[96];
    wlan_set_active(WLAN_AP, false);
    if (!wlan_isconnected(WLAN_STA)) {
        bh_printf("Connecting to WiFi...\n");
        wlan_set_active(WLAN_STA, true);
        uint32_t key = rtc_hash(config.wifi_ssid, config.wifi_password), t0 = fw_clock_s();
        if (!config.fast_wake || !fw_join(&config, key)) {
            wlan_connect(WLAN_STA, config.wifi_ssid, config.wifi_password, NULL);
            int err = awake_wait_wifi(&config);   /* while not sta_if.isconnected() */
            if (err != BH_OK)
                return err;
        }
        fw_remember(key, t0);
    }
    hal_ipcfg ip;
    wlan_ifconfig(WLAN_STA, &ip);
    wlan_repr_ifconfig(text, sizeof text, &ip);
    bh_printf("Network config: %s\n", text);
    return BH_OK;
}

/* key: the press's Idempotency-Key (NULL: no press): a repeat is the same event to hookd */
static int call_webhook(const char *key)
{
    const char *body;
    bh_printf("Invoking webhook\n");
    int len = payload_json(&config, &body);   /* json={'value1': config.BUTTON_ID} */
    if (len < 0)
        return app_fail(PQ_AT_WEBHOOK, len, "JSON body too large (%d bytes max)", PAYLOAD_MAX);
    http_request request = {
        .method = "POST", .url = press_url(&config), .body = body, .body_len = (size_t)len,
        .content_type = "application/json",
        .headers = &(http_header){"Idempotency-Key", key}, .nheaders = key != NULL,
        .ca_file = cfg_has(&config, CA_FILE) ? config.ca_file : NULL,
        .status_only = true,   /* the status line is all a press needs: sleep sooner */
    };
    int err = fw_http_do(&request, &app_scratch.resp, &config, connect_wifi); /* urequests.post() */
    if (err == BH_OK && app_scratch.resp.status < 400) {
        bh_printf("Webhook invoked\n");
        return BH_OK;
    }
    bh_printf("Webhook failed\n");
    return app_http_fail(err, &app_scratch.resp);   /* raise RuntimeError() */
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

/* import config: its errors printed, and the wake's time bound started */
static int load_config(void)
{
    int err = cfg_load("config.py", &config, app_config_diag, NULL);
    awake_begin(config.awake_max, feedback_ms(&config));
    app_error.detail = 0;
    if (err != BH_OK)
        app_fail(PQ_AT_CONFIG, err, "config.py has errors (see above)");
    return err;
}

static void run(void)
{
    int err = load_config();
    if (app_setup && hal_reset_cause() == HAL_RESET_PWRON && (err == BH_ERR_NOENT || is_debug()))
        err = app_setup(err);   /* no config.py, or the jumper in, at power-on: set-up page */
    fw_begin(&presses);
    app_last_wake(&presses);
    bool pressed = press_wake(&config);
    if (pressed) {   /* a press (presskind.c), kept before anything is tried */
        if (err == BH_OK)
            err = connect_wifi();
        if (err == BH_OK)
            err = presses_send(call_webhook);   /* call_webhook() for each press kept */
    }
    if (err != BH_OK) {
        app_print_exception();   /* sys.print_exception(exc) */
        show_error();
    }
    feedback_show(&config, err, pressed);   /* SUCCESS_BLINK, LOW_BATTERY_MV */
    bool debug = is_debug();
    uint32_t ms = presses_end(err, config.retry_wake, debug);   /* marked asleep, or not */
    if (config.fast_wake)
        fw_save();
    if (!debug)
        hal_deep_sleep(ms);
}

void app_main(void) { wlan_init(); run(); }

/* The steps typed at the console, as at the chapter's REPL: a webhook there is no press. */
static int by_hand(bool webhook)
{
    int err = load_config();
    if (err == BH_OK)
        err = webhook ? call_webhook(NULL) : connect_wifi();
    if (err != BH_OK)
        app_print_exception();
    return err;
}

int app_connect_wifi(void) { return by_hand(false); }
int app_call_webhook(void) { return by_hand(true); }
void app_run(void) { run(); }
