/*
 * semihost.h - ARM semihosting (the debugger's "bkpt 0xAB" calls), which QEMU answers on the
 * host when started with -semihosting-config enable=on,target=native. The board uses it for
 * what a chip keeps outside its RAM: the boot parameters (command line), RTC memory and flash
 * as files in QEMU's working directory, and the end of a wake (the process exit status).
 */
#ifndef BH_MPS2_SEMIHOST_H
#define BH_MPS2_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* Open modes, as the semihosting spec numbers fopen()'s: "rb", "r+b", "wb", "w+b". */
enum { SH_MODE_RB = 1, SH_MODE_RPB = 3, SH_MODE_WB = 5, SH_MODE_WPB = 7 };

int sh_open(const char *path, int mode);                  /* a handle >= 0, or -1 */
int sh_close(int fd);                                     /* 0 or -1 */
/* Each returns the bytes moved (short only at end of file for a read), or -1. */
int sh_read(int fd, void *buf, size_t len);
int sh_write(int fd, const void *buf, size_t len);
int sh_seek(int fd, uint32_t pos);                        /* absolute; 0 or -1 */
long sh_flen(int fd);                                     /* the file's length, or -1 */
int sh_remove(const char *path);                          /* 0 or -1 */
/* The command line QEMU was given (its arg=... joined by spaces), NUL-terminated; its
 * length, or -1 when it does not fit in cap. */
int sh_cmdline(char *buf, size_t cap);
/* Ends QEMU with this exit status (SYS_EXIT_EXTENDED, which QEMU 7.2 supports for 32-bit
 * ARM; plain SYS_EXIT can only say 0 or 1 there). */
_Noreturn void sh_exit(int status);

#endif
