/*
 * tls_none.c - https:// on the ESP8266 port: not done. The SDK's mbedTLS with small records
 * (max fragment length) and session resumption in RTC memory is the plan; until it is built
 * and its RAM measured (docs/esp8266.md gives the arithmetic), an https:// webhook fails with
 * this reason instead of sending the press in clear text.
 */
#include "hal/hal.h"

int hal_tls_start(int s, const hal_tls_params *p, uint32_t timeout_ms)
{
    (void)s, (void)p, (void)timeout_ms;
    hal_report("error", "tls", BH_ERR_UNSUPPORTED,
               "no TLS in this ESP8266 build yet (the SDK's mbedTLS is not linked): "
               "use an http:// URL");
    return BH_ERR_UNSUPPORTED;
}
