/*
 * tls_none.c - https:// on the ESP8266 port: refused, with the reason.
 *
 * The plan was the SDK's mbedTLS with small record buffers (max fragment length) and the
 * session kept in RTC memory. The SDK's libmbedtls.a is mbedTLS 2.2.1 built without
 * MBEDTLS_SSL_MAX_FRAGMENT_LENGTH (config_esp.h; no mbedtls_ssl_conf_max_frag_len in the
 * library), so the client cannot ask a server for records smaller than TLS's 16 KB, and two
 * such buffers (33,434 bytes) leave no room for the handshake in the heap this image leaves
 * (at most 37,256 bytes at user_init with the read-only data in flash, before the SDK's own
 * use; docs/esp8266.md has the arithmetic). An https:// webhook fails with this reason
 * instead of sending the press in clear text.
 */
#include "hal/hal.h"

int hal_tls_start(int s, const hal_tls_params *p, uint32_t timeout_ms)
{
    (void)s, (void)p, (void)timeout_ms;
    hal_report("error", "tls", BH_ERR_UNSUPPORTED,
               "no TLS on this ESP8266 build (the SDK's mbedTLS has no small records; "
               "16 KB ones do not fit the heap): use an http:// URL");
    return BH_ERR_UNSUPPORTED;
}
