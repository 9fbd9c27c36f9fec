/*
 * tls_none.c - no TLS on the mps2 board: it has no crypto library in its image (the Linux
 * ports bring mbedTLS, the ESP8266 its SDK's). An https:// webhook fails with a clear reason
 * instead of sending the press in clear text, and the port says why in its log.
 */
#include "hal/hal.h"

int hal_tls_start(int s, const hal_tls_params *p, uint32_t timeout_ms)
{
    (void)s, (void)p, (void)timeout_ms;
    hal_report("error", "tls", BH_ERR_UNSUPPORTED, "no TLS on this board: use an http:// URL");
    return BH_ERR_UNSUPPORTED;
}
