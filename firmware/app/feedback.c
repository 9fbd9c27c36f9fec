/* feedback.c - the success and low-battery patterns (feedback.h). */
#include "app/app.h"
#include "app/feedback.h"
#include "hal/hal.h"

/* n flashes of the LEDs in mask (1: LED_PIN, 2: LED2_PIN) lit for on_ms then dark for off_ms;
 * the NodeMCU's LEDs are active-low, so 0 lights them */
static void flash(const bh_config *c, int mask, int n, uint32_t on_ms, uint32_t off_ms)
{
    const int pin[2] = {c->led_pin, c->led2_pin};
    for (int k = 0; k < 2; k++)
        hal_pin_mode(pin[k], HAL_PIN_OUT, HAL_PULL_NONE);
    for (int i = 0; i < 2 * n; i++) {
        for (int k = 0; k < 2; k++)
            hal_pin_write(pin[k], !(mask >> k & 1) || (i & 1));
        hal_delay_ms(i & 1 ? off_ms : on_ms);
    }
}

uint32_t feedback_ms(const bh_config *c)
{
    return c->low_battery_mv ? FB_LOW_BATTERY_MS : 0;
}

void feedback_show(const bh_config *c, int err, bool pressed)
{
    uint16_t mv;
    if (!pressed)
        return;
    if (err == BH_OK && c->success_blink)
        flash(c, 3, 2, FB_SUCCESS_MS / 4, FB_SUCCESS_MS / 4);
    if (c->low_battery_mv && hal_supply_mv(&mv) == BH_OK && mv < c->low_battery_mv) {
        bh_printf("Battery low: %u mV\n", (unsigned)mv);
        flash(c, 1, 3, FB_LOW_BATTERY_MS / 6, FB_LOW_BATTERY_MS / 6);
    }
}
