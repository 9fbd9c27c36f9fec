/* fuzz_fs.c - the flash file system (firmware/fs/) mounting a flash image made of the input:
 * whatever a flash holds (another firmware's data, a damaged or made-up image), mounting,
 * listing and reading it must stay in bounds and end, and the file system must then work.
 *
 * Input: one mode byte, then the image's first bytes (the rest of the 16 KB region, 16 sectors
 * of 1 KB, is erased). Mode bit 0 clear: the sector headers and records get valid CRCs over
 * their fuzzed contents, as the file system would write them, so that the fuzzer reaches what
 * a valid CRC over nonsense would do; set: the bytes go in as they are. Mode bits 1-3: how
 * many writes, appends and removes follow (chosen from a hash of the input); each one that
 * succeeds must read back exactly, before and after mounting again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "hal/hal.h"

#define SECTOR 1024
#define NSEC 16
#define SIZE (SECTOR * NSEC)

static uint8_t mem[SIZE];

static int f_read(uint32_t off, void *buf, size_t len)
{
    if (off > SIZE || len > SIZE - off)
        abort();   /* the file system must never ask outside its region */
    memcpy(buf, mem + off, len);
    return 0;
}
static int f_erase(uint32_t off)
{
    if (off % SECTOR || off >= SIZE)
        abort();
    memset(mem + off, 0xFF, SECTOR);
    return 0;
}
static int f_program(uint32_t off, const void *buf, size_t len)
{
    if (off > SIZE || len > SIZE - off)
        abort();
    for (size_t i = 0; i < len; i++)
        mem[off + i] &= ((const uint8_t *)buf)[i];
    return 0;
}
static const bh_flash flash = {SIZE, SECTOR, f_read, f_erase, f_program};

static uint32_t crc32(uint32_t c, const uint8_t *p, size_t n)
{
    c = ~c;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The CRCs the file system checks, made right (docs/flash-fs.md's layout): each sector header
 * that has the magic, each record header and payload up to the first erased or oversized one. */
static void fix_crcs(void)
{
    for (uint32_t s = 0; s < NSEC; s++) {
        uint8_t *b = mem + s * SECTOR;
        if (memcmp(b, "BHFS", 4) == 0) {
            uint8_t g[8];
            put32(g, SECTOR);
            put32(g + 4, NSEC);
            put32(b + 12, crc32(crc32(0, b, 12), g, 8));
        }
        for (uint32_t pos = 16; pos + 20 <= SECTOR;) {
            uint8_t *r = b + pos;
            uint32_t plen = (uint32_t)(r[2] | r[3] << 8), rs = 20 + ((plen + 3) & ~3u);
            if (r[0] == 0xFF || rs > SECTOR - pos)
                break;
            put32(r + 12, crc32(0, r + 20, plen));
            put32(r + 16, crc32(crc32(0, r, 1), r + 2, 14));
            pos += rs;
        }
    }
}

static uint8_t buf[SIZE], want[SIZE];

/* every file listed has a unique name and reads whole, or fails cleanly */
static void read_all(void)
{
    char name[FS_NAME_MAX + 1], other[FS_NAME_MAX + 1];
    for (int i = 0; fs_list(i, name, sizeof name) == BH_OK; i++) {
        if (i > FS_MAX_FILES || strlen(name) == 0)
            abort();
        for (int j = 0; j < i; j++)
            if (fs_list(j, other, sizeof other) == BH_OK && strcmp(name, other) == 0)
                abort();
        int size = fs_size(name);
        if (size < 0 || size > SIZE)
            abort();   /* a file cannot hold more than the region */
        int n = fs_read(name, 0, buf, sizeof buf);
        if (n != size && n != BH_ERR_IO)
            abort();
        if (size > 3)
            fs_read(name, (uint32_t)size / 3, buf, 7);
    }
    uint32_t used, limit;
    if (fs_space(&used, &limit) != BH_OK)
        abort();
}

static uint32_t rng;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* The file holds n bytes, and bytes [from, n) are data's. (Bytes before `from`, there before
 * an append, need not read as they did: a made-up image may hold records that overlap, and
 * which of them a read finds first may change when garbage collection moves them.) */
static void check(const char *name, const uint8_t *data, size_t from, size_t n)
{
    if (fs_size(name) != (int)n ||
        fs_read(name, (uint32_t)from, buf, sizeof buf) != (int)(n - from) ||
        memcmp(buf, data + from, n - from) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    memset(mem, 0xFF, sizeof mem);
    memcpy(mem, data, size < SIZE ? size : SIZE);
    if (!(mode & 1))
        fix_crcs();
    int rc = fs_mount(&flash);
    if (rc != BH_OK && rc != BH_ERR_PROTO)
        abort();
    if (rc == BH_OK)
        read_all();
    else if (fs_size("config.py") != BH_ERR_IO || fs_format() != BH_OK)
        abort();

    /* changes: each one all done or refused (BH_ERR_FULL), and then as written */
    rng = crc32(0, data, size) | 1;
    static const char *names[] = {"config.py", "wlan.cfg", "webrepl_cfg.py", "ca.pem"};
    int ops = (mode >> 1) & 7;
    for (int i = 0; i < ops; i++) {
        const char *name = names[next() % 4];
        int cur = fs_size(name);
        uint32_t n = next() % 1500;
        size_t expect = 0, from = 0;   /* the file's size after the change; new from here */
        int exists = 1;
        switch (next() % 3) {
        case 0:
            for (uint32_t k = 0; k < n; k++)
                want[k] = (uint8_t)next();
            rc = fs_write(name, 0, want, n);
            if (rc != BH_OK && rc != BH_ERR_FULL)
                abort();
            if (rc != BH_OK)
                continue;
            expect = n;
            break;
        case 1:
            if (cur < 0 || fs_read(name, 0, want, sizeof want) != cur)
                continue;   /* nothing to append to, or a damaged file */
            if ((size_t)cur + n > sizeof want)
                n = (uint32_t)(sizeof want - (size_t)cur);
            for (uint32_t k = 0; k < n; k++)
                want[cur + k] = (uint8_t)next();
            rc = fs_write(name, (uint32_t)cur, want + cur, n);
            if (rc != BH_OK && rc != BH_ERR_FULL)
                abort();
            expect = rc == BH_OK ? (size_t)cur + n : (size_t)cur;
            from = (size_t)cur;
            break;
        default:
            /* BH_ERR_FULL too: a made-up image can leave no room to collect garbage in */
            rc = fs_remove(name);
            if (rc != (cur >= 0 ? BH_OK : BH_ERR_NOENT) && !(cur >= 0 && rc == BH_ERR_FULL))
                abort();
            exists = rc == BH_ERR_FULL;
            expect = (size_t)cur;
            from = (size_t)cur;
        }
        /* as written, and the same after a reboot */
        for (int boot = 0; boot < 2; boot++) {
            if (boot && fs_mount(&flash) != BH_OK)
                abort();
            if (exists)
                check(name, want, from, expect);
            else if (fs_size(name) != BH_ERR_NOENT)
                abort();
        }
        read_all();
    }
    return 0;
}
