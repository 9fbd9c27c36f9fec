/* semihost.c - ARM semihosting calls (see semihost.h). Operation numbers and parameter
 * blocks are those of ARM's "Semihosting for AArch32 and AArch64" specification. */
#include "semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C,
    SYS_REMOVE = 0x0E,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* r0 = operation, r1 = parameter block; the host's answer comes back in r0. The memory
 * clobber: the host reads and writes the block and the buffers it points to. */
static int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int sh_open(const char *path, int mode)
{
    uint32_t blk[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
    return sh_call(SYS_OPEN, blk);
}

int sh_close(int fd)
{
    uint32_t blk[1] = {(uint32_t)fd};
    return sh_call(SYS_CLOSE, blk) == 0 ? 0 : -1;
}

/* SYS_READ and SYS_WRITE answer the number of bytes NOT moved. */
int sh_read(int fd, void *buf, size_t len)
{
    uint32_t blk[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    int left = sh_call(SYS_READ, blk);
    if (left < 0 || (size_t)left > len)
        return -1;
    return (int)(len - (size_t)left);
}

int sh_write(int fd, const void *buf, size_t len)
{
    uint32_t blk[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    int left = sh_call(SYS_WRITE, blk);
    return left == 0 ? (int)len : -1;
}

int sh_seek(int fd, uint32_t pos)
{
    uint32_t blk[2] = {(uint32_t)fd, pos};
    return sh_call(SYS_SEEK, blk) == 0 ? 0 : -1;
}

long sh_flen(int fd)
{
    uint32_t blk[1] = {(uint32_t)fd};
    return sh_call(SYS_FLEN, blk);
}

int sh_remove(const char *path)
{
    uint32_t blk[2] = {(uint32_t)(uintptr_t)path, (uint32_t)strlen(path)};
    return sh_call(SYS_REMOVE, blk) == 0 ? 0 : -1;
}

int sh_cmdline(char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    uint32_t blk[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};
    if (sh_call(SYS_GET_CMDLINE, blk) != 0) {
        buf[0] = '\0';
        return -1;
    }
    /* the host wrote the length it used back into the block */
    if (blk[1] >= cap)
        blk[1] = (uint32_t)cap - 1;
    buf[blk[1]] = '\0';
    return (int)blk[1];
}

_Noreturn void sh_exit(int status)
{
    uint32_t blk[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    sh_call(SYS_EXIT_EXTENDED, blk);
    for (;;)   /* only when not run under a semihosting host: stop here */
        __asm__ volatile("wfi");
}
