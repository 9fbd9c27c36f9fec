/* err.c - messages for bh_err codes. */
#include "hal/hal.h"

const char *bh_strerror(int err)
{
    switch (err) {
    case BH_OK: return "ok";
    case BH_ERR_ARG: return "invalid argument";
    case BH_ERR_NOMEM: return "out of buffer space";
    case BH_ERR_NOENT: return "no such file";
    case BH_ERR_IO: return "I/O error";
    case BH_ERR_TIMEOUT: return "timed out";
    case BH_ERR_DNS: return "host name not found";
    case BH_ERR_REFUSED: return "connection refused";
    case BH_ERR_UNREACH: return "network unreachable";
    case BH_ERR_RESET: return "connection closed by peer";
    case BH_ERR_NOLINK: return "Wi-Fi not connected";
    case BH_ERR_TLS: return "TLS handshake failed";
    case BH_ERR_CERT: return "server certificate not trusted";
    case BH_ERR_PROTO: return "malformed response";
    case BH_ERR_TOOBIG: return "too large";
    case BH_ERR_STATE: return "not allowed now";
    case BH_ERR_FULL: return "flash full";
    case BH_ERR_UNSUPPORTED: return "not supported by this board";
    default: return "unknown error";
    }
}
