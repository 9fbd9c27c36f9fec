/* awake.c - the wake's time bound (awake.h). */
#include "app/apperr.h"
#include "app/awake.h"
#include "net/wlan.h"

static uint32_t deadline_ms;

void awake_begin(int awake_max_s, uint32_t after_ms)
{
    deadline_ms = hal_millis() + (uint32_t)awake_max_s * 1000u - BH_WAKE_END_MS - after_ms;
}

uint32_t awake_left(uint32_t want)
{
    uint32_t now = hal_millis(), left = now < deadline_ms ? deadline_ms - now : 0;
    return want < left ? want : left;
}

uint32_t awake_http_ms(int http_timeout_s)
{
    uint32_t t = awake_left((uint32_t)http_timeout_s * 1000u);
    return t ? t : 1;
}

int awake_wait_link(uint32_t timeout_ms, int *status)
{
    uint32_t start = hal_millis();
    timeout_ms = awake_left(timeout_ms);
    while (!wlan_isconnected(WLAN_STA)) {
        *status = wlan_status(WLAN_STA);
        if (app_link_failure(*status))
            return BH_ERR_NOLINK;
        if (hal_millis() - start >= timeout_ms)
            return BH_ERR_TIMEOUT;
        /* the chapter sleeps 1 s between checks; a short poll ends the wake sooner */
        hal_delay_ms(10);
    }
    return BH_OK;
}

int awake_wait_wifi(const bh_config *c)
{
    int status = HAL_LINK_CONNECTING;
    uint32_t t = awake_left((uint32_t)c->wifi_timeout * 1000u);
    int err = awake_wait_link(t, &status);
    app_error.detail = status;
    if (err == BH_ERR_NOLINK)
        return app_fail(PQ_AT_WIFI, err, "Wi-Fi '%s': %s (status %d)", c->wifi_ssid,
                        app_link_failure(status), status);
    if (err)
        return app_fail(PQ_AT_WIFI, err, "Wi-Fi '%s': not connected after %d s (status %d)",
                        c->wifi_ssid, (int)(t / 1000), status);
    return BH_OK;
}
