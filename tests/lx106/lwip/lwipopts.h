/* lwipopts.h - lwIP's configuration for the one lwIP file the lx106 unit tests compile:
 * src/netif/ppp/polarssl/sha1.c, lwIP's bundled PolarSSL SHA-1 (see sha1_lwip.c). No stack. */
#ifndef BH_LX106_LWIPOPTS_H
#define BH_LX106_LWIPOPTS_H
#define NO_SYS 1
#define PPP_SUPPORT 1                   /* the SHA-1 is part of lwIP's PPP code */
#define LWIP_INCLUDED_POLARSSL_SHA1 1   /* and is built only when asked for */
#endif
