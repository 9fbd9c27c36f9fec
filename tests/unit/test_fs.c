/* test_fs.c - the flash file system (firmware/fs/): files round trip and keep hal.h's semantics
 * (the test board's, side by side), a full flash refuses writes and loses nothing, a power cut
 * at every byte a write, remove or garbage collection programs or erases leaves the old or the
 * new file, sectors wear evenly, and damaged or random images mount without harm. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "testboard.h"

/* ---- a NOR flash in RAM that can lose power ------------------------------------------------ */
#ifdef __XTENSA__
/* on the ESP8266's CPU in QEMU (tests/lx106): 512 KB of RAM, half of it the test board's */
#define MAXSZ (64 * 1024)
#else
#define MAXSZ (1024 * 1024)
#endif
#define SEC 4096
static uint8_t mem[MAXSZ], before[64 * 1024];   /* before: the image a test goes back to */
static bh_flash flash;
static long budget = -1;     /* bytes that may still be erased or programmed; -1: no limit */
static long spent;           /* bytes erased or programmed */
static jmp_buf power_cut;    /* where a cut jumps: nothing after it runs, as on the board */
static int erase_down;       /* erase from the sector's end, so a cut keeps its header */
static uint32_t erases[256];
static int overwrites;       /* programs that tried to set a bit: the fs wrote on used bytes */
static int out_of_bounds;
static int program_fails = -1; /* programs before one returns BH_ERR_IO; -1: none */
static uint32_t rnd = 1;

static uint32_t rand32(void)
{
    rnd ^= rnd << 13;
    rnd ^= rnd >> 17;
    rnd ^= rnd << 5;
    return rnd;
}
static int f_read(uint32_t off, void *buf, size_t len)
{
    if (off > flash.size || len > flash.size - off) {
        out_of_bounds++;
        return BH_ERR_IO;
    }
    memcpy(buf, mem + off, len);
    return 0;
}
/* One byte erased or programmed; at the budget's end the byte is left half done (some bits
 * changed, not all) and the power goes. */
static void spend(uint8_t *b, uint8_t to, int erasing)
{
    if (budget == 0) {
        uint8_t half = (uint8_t)rand32();
        *b = erasing ? (uint8_t)(*b | half) : (uint8_t)(*b & (to | half));
        longjmp(power_cut, 1);
    }
    if (budget > 0)
        budget--;
    spent++;
    if (!erasing && (to & ~*b))
        overwrites++;
    *b = erasing ? 0xFF : (uint8_t)(*b & to);
}
static int f_erase(uint32_t off)
{
    if (off % flash.sector || off >= flash.size) {
        out_of_bounds++;
        return BH_ERR_IO;
    }
    for (uint32_t i = 0; i < flash.sector; i++)
        spend(mem + off + (erase_down ? flash.sector - 1 - i : i), 0xFF, 1);
    erases[off / flash.sector]++;
    return 0;
}
static int f_program(uint32_t off, const void *buf, size_t len)
{
    if (off > flash.size || len > flash.size - off) {
        out_of_bounds++;
        return BH_ERR_IO;
    }
    if (program_fails >= 0 && program_fails-- == 0)
        return BH_ERR_IO;   /* once */
    for (size_t i = 0; i < len; i++)
        spend(mem + off + i, ((const uint8_t *)buf)[i], 0);
    return 0;
}
/* a new chip: all erased */
static void chip(uint32_t size, uint32_t sector)
{
    flash = (bh_flash){size, sector, f_read, f_erase, f_program};
    memset(mem, 0xFF, size);
    memset(erases, 0, sizeof erases);
    budget = -1;
    program_fails = -1;
}
static void fresh(uint32_t size)
{
    chip(size, SEC);
    CHECK_INT(fs_mount(&flash), BH_ERR_PROTO);
    CHECK_INT(fs_format(), BH_OK);
}

/* ---- contents ------------------------------------------------------------------------------ */
static uint8_t got[16400];   /* the largest file read whole: 16 KB */
static void fill(uint8_t *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}
/* the file is exactly n bytes of want (n < 0: there is no such file) */
static int is(const char *name, const void *want, int n)
{
    int size = fs_size(name);
    if (n < 0)
        return size == BH_ERR_NOENT && fs_read(name, 0, got, 1) == BH_ERR_NOENT;
    return size == n && fs_read(name, 0, got, sizeof got) == n && memcmp(got, want, (size_t)n) == 0;
}
static int put(const char *name, const void *data, size_t n)
{
    return fs_write(name, 0, data, n);
}

/* ---- round trip ---------------------------------------------------------------------------- */
static void round_trip(void)
{
    fresh(64 * 1024);
    const char *cfg = "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n";
    CHECK_INT(fs_size("config.py"), BH_ERR_NOENT);
    CHECK_INT(put("config.py", cfg, strlen(cfg)), BH_OK);
    CHECK_INT(fs_size("config.py"), (long)strlen(cfg));
    CHECK(is("config.py", cfg, (int)strlen(cfg)));
    char b[16];
    CHECK_INT(fs_read("config.py", 12, b, 8), 8);
    CHECK(memcmp(b, cfg + 12, 8) == 0);
    CHECK_INT(fs_read("config.py", (uint32_t)strlen(cfg) - 3, b, sizeof b), 3);
    CHECK_INT(fs_read("config.py", (uint32_t)strlen(cfg), b, sizeof b), 0);
    CHECK_INT(fs_read("config.py", 5000, b, sizeof b), 0);
    /* appends, crossing sectors: a 16 KB CA bundle uploaded 1 KB at a time, as WebREPL does */
    static uint8_t ca[16384];
    fill(ca, sizeof ca, 7);
    CHECK_INT(put("ca.pem", "", 0), BH_OK);
    CHECK_INT(fs_size("ca.pem"), 0);
    for (uint32_t off = 0; off < sizeof ca; off += 1024)
        CHECK_INT(fs_write("ca.pem", off, ca + off, 1024), BH_OK);
    CHECK(is("ca.pem", ca, sizeof ca));
    /* read in odd pieces */
    for (uint32_t off = 0; off < sizeof ca; off += 333) {
        int n = fs_read("ca.pem", off, got, 333);
        CHECK_INT(n, off + 333 <= sizeof ca ? 333 : (long)(sizeof ca - off));
        CHECK(memcmp(got, ca + off, (size_t)n) == 0);
    }
    /* list: index-th name, BH_ERR_NOENT at the end, BH_ERR_NOMEM if it does not fit */
    char name[FS_NAME_MAX + 1];
    CHECK_INT(fs_list(0, name, sizeof name), BH_OK);
    CHECK_STR(name, "config.py");
    CHECK_INT(fs_list(1, name, sizeof name), BH_OK);
    CHECK_STR(name, "ca.pem");
    CHECK_INT(fs_list(2, name, sizeof name), BH_ERR_NOENT);
    CHECK_INT(fs_list(-1, name, sizeof name), BH_ERR_NOENT);
    CHECK_INT(fs_list(1, name, 6), BH_ERR_NOMEM);
    CHECK_INT(fs_list(1, name, 7), BH_OK);
    /* all of it again after a reboot */
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(is("config.py", cfg, (int)strlen(cfg)));
    CHECK(is("ca.pem", ca, sizeof ca));
    /* the CA bundle rewritten whole next to 9 KB of other files: the old and the new one
     * both fit in 64 KB while it is written */
    static uint8_t other[9000];
    fill(other, sizeof other, 8);
    CHECK_INT(put("other.bin", other, sizeof other), BH_OK);
    fill(ca, sizeof ca, 9);
    CHECK_INT(put("ca.pem", ca, sizeof ca), BH_OK);
    CHECK(is("ca.pem", ca, sizeof ca));
    CHECK(is("other.bin", other, sizeof other));
    CHECK_INT(fs_remove("other.bin"), BH_OK);
    /* truncate and rewrite; remove */
    CHECK_INT(put("ca.pem", "short", 5), BH_OK);
    CHECK(is("ca.pem", "short", 5));
    CHECK_INT(fs_remove("config.py"), BH_OK);
    CHECK_INT(fs_remove("config.py"), BH_ERR_NOENT);
    CHECK(is("config.py", NULL, -1));
    CHECK_INT(fs_list(0, name, sizeof name), BH_OK);
    CHECK_STR(name, "ca.pem");
    CHECK_INT(fs_list(1, name, sizeof name), BH_ERR_NOENT);
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(is("config.py", NULL, -1));
    CHECK(is("ca.pem", "short", 5));
    /* 16 files, the 17th is refused; names up to 63 bytes */
    char n63[64];
    memset(n63, 'n', 63);
    n63[63] = 0;
    CHECK_INT(put(n63, "x", 1), BH_OK);
    for (int i = 0; i < 14; i++) {
        char f[24];
        snprintf(f, sizeof f, "f%d.txt", i);
        CHECK_INT(put(f, f, strlen(f)), BH_OK);
    }
    CHECK_INT(put("one-too-many", "x", 1), BH_ERR_FULL);
    CHECK(is("one-too-many", NULL, -1));
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(is(n63, "x", 1));
    CHECK(is("f13.txt", "f13.txt", 7));
    CHECK(is("ca.pem", "short", 5));
    CHECK_INT(fs_list(15, name, sizeof name), BH_OK);
    CHECK_INT(fs_list(16, name, sizeof name), BH_ERR_NOENT);
    CHECK_INT(overwrites, 0);
    CHECK_INT(out_of_bounds, 0);
}

/* ---- the same calls on this file system and on the test board's files ---------------------- */
static void same_write(const char *name, uint32_t off, const char *data)
{
    size_t n = data ? strlen(data) : 0;
    int a = fs_write(name, off, data, n), b = hal_fs_write(name, off, data, n);
    if (a != b)
        fprintf(stderr, "write %s at %u: fs %d, test board %d\n", name, off, a, b);
    CHECK_INT(a, b);
}
static void same_files(void)
{
    char a[FS_NAME_MAX + 2], b[FS_NAME_MAX + 2];
    for (int i = -1; i < 18; i++) {
        int ra = fs_list(i, a, sizeof a), rb = hal_fs_list(i, b, sizeof b);
        CHECK_INT(ra, rb);
        if (ra == 0 && rb == 0)
            CHECK_STR(a, b);
        CHECK_INT(fs_list(i, a, 3), hal_fs_list(i, b, 3));
    }
    for (int i = 0; fs_list(i, a, sizeof a) == 0; i++) {
        CHECK_INT(fs_size(a), hal_fs_size(a));
        for (uint32_t off = 0; off < 12; off += 5) {
            char da[32] = {0}, db[32] = {0};
            CHECK_INT(fs_read(a, off, da, 7), hal_fs_read(a, off, db, 7));
            CHECK(memcmp(da, db, sizeof da) == 0);
        }
    }
}
static void same_as_test_board(void)
{
    tb_reset();
    fresh(64 * 1024);
    char n64[66];
    memset(n64, 'n', 64);
    n64[64] = 0;
    same_write("config.py", 0, "SSID = 'x'\n");
    same_write("wlan.cfg", 0, "");
    same_write("wlan.cfg", 0, "abc");
    same_write("wlan.cfg", 3, "def");         /* append */
    same_write("wlan.cfg", 3, "xyz");         /* off > 0 but not the size */
    same_write("wlan.cfg", 7, "xyz");
    same_write("wlan.cfg", 6, "");            /* append nothing */
    same_write("absent.txt", 4, "x");         /* append to no file */
    same_write("", 0, "x");                   /* no name */
    same_write(n64, 0, "x");                  /* 64 bytes: one too many */
    same_write(n64 + 1, 0, "63");
    same_write("webrepl_cfg.py", 0, "PASS = 'secret'\n");
    same_write("config.py", 0, "short\n");    /* truncate */
    same_files();
    CHECK_INT(fs_size("nope"), hal_fs_size("nope"));
    CHECK_INT(fs_size(""), hal_fs_size(""));
    CHECK_INT(fs_size(n64), hal_fs_size(n64));
    char x[4];
    CHECK_INT(fs_read("nope", 0, x, 4), hal_fs_read("nope", 0, x, 4));
    CHECK_INT(fs_remove("wlan.cfg"), hal_fs_remove("wlan.cfg"));
    CHECK_INT(fs_remove("wlan.cfg"), hal_fs_remove("wlan.cfg"));
    CHECK_INT(fs_remove(""), hal_fs_remove(""));
    same_files();
    same_write("wlan.cfg", 0, "again");       /* takes the first free place in the list */
    same_files();
    CHECK_INT(fs_mount(&flash), BH_OK);       /* a reboot keeps the list's order */
    same_files();
}

/* ---- a full flash -------------------------------------------------------------------------- */
static uint8_t old_a[8192], new_a[8192], b_data[5200], c_data[600];

/* what each file should hold: pieces of fill() output (kept as seeds, not bytes) */
#define MAX_PIECES 8
typedef struct {
    int pieces;   /* -1: no such file */
    uint32_t seed[MAX_PIECES], len[MAX_PIECES];
} mfile;
static mfile model[16];
static const char *fname(int i)
{
    static char n[16][16];
    snprintf(n[i], sizeof n[i], "file%02d", i);
    return n[i];
}
static int model_is(int i)
{
    size_t n = 0;
    for (int p = 0; p < model[i].pieces; p++) {
        fill(old_a + n, model[i].len[p], model[i].seed[p]);
        n += model[i].len[p];
    }
    return is(fname(i), old_a, model[i].pieces < 0 ? -1 : (int)n);
}
static int model_ok(void)
{
    for (int i = 0; i < 16; i++)
        if (!model_is(i))
            return 0;
    return 1;
}
static uint32_t model_len(int i)
{
    uint32_t n = 0;
    for (int p = 0; p < model[i].pieces; p++)
        n += model[i].len[p];
    return n;
}
/* writes n bytes of fill(seed) at off (0: a new content, else an append): the call's result */
static int model_write(int i, uint32_t off, uint32_t n, uint32_t seed)
{
    fill(new_a, n, seed);
    int rc = fs_write(fname(i), off, new_a, n);
    if (rc == BH_OK) {
        mfile *m = &model[i];
        if (off == 0)
            m->pieces = 0;
        m->seed[m->pieces] = seed;
        m->len[m->pieces++] = n;
    }
    return rc;
}
/* what fs.c reserves for a write of n bytes in 4 KB sectors, at most (its own bound) */
static uint32_t cost(uint32_t n)
{
    return n + (n / (SEC - 16 - 28) + 2) * 48 + 2 * (20 + 64);
}
static void full(void)
{
    fresh(64 * 1024);
    for (int i = 0; i < 16; i++)
        model[i].pieces = -1;
    /* files of 3000 bytes until the flash is full */
    int i, rc = BH_OK;
    for (i = 0; i < 16 && rc == BH_OK; i++)
        rc = model_write(i, 0, 3000, (uint32_t)i);
    CHECK_INT(rc, BH_ERR_FULL);
    int stored = i - 1;
    uint32_t used, lim;
    CHECK_INT(fs_space(&used, &lim), 0);
    printf("figures: fs 64 KB: %d files of 3000 bytes fit (%u of %u bytes used, limit %u)\n",
           stored, used, 64 * 1024, lim);
    CHECK(stored >= 12);   /* at least 36 KB of files in 64 KB */
    CHECK(used + cost(3000) > lim);
    CHECK(model_ok());
    /* refused writes change nothing: a rewrite, an append, a new file */
    CHECK_INT(model_write(0, 0, 5000, 99), BH_ERR_FULL);
    CHECK_INT(model_write(1, 3000, 5000, 99), BH_ERR_FULL);
    CHECK(model_ok());
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(model_ok());
    /* a remove frees room for the write */
    CHECK_INT(fs_remove(fname(2)), BH_OK);
    model[2].pieces = -1;
    CHECK_INT(model_write(1, 3000, 2000, 99), BH_OK);
    CHECK(model_ok());
    /* random writes, appends and removes near full: each does all of it, or returns
     * BH_ERR_FULL and does nothing (and only when the bytes would not fit) */
    int fulls = 0, oks = 0, failures = tb_failures;
    for (int step = 0; step < 600; step++) {
        int f = (int)(rand32() % 16), what = (int)(rand32() % 4);
        uint32_t n = 1 + rand32() % 5000;
        CHECK_INT(fs_space(&used, &lim), 0);
        if (what == 0 && model[f].pieces >= 0) {
            CHECK_INT(fs_remove(fname(f)), BH_OK);
            model[f].pieces = -1;
            continue;
        }
        uint32_t off = 0;
        if (what == 1 && model[f].pieces >= 0 && model[f].pieces < MAX_PIECES) {
            off = model_len(f);
            if (off + n > sizeof new_a)
                n = (uint32_t)sizeof new_a - off;
        }
        rc = model_write(f, off, n, rand32());
        if (rc == BH_ERR_FULL) {
            fulls++;
            CHECK(used + cost(n) > lim);   /* refused only when it would not fit */
        } else {
            CHECK_INT(rc, BH_OK);
            oks++;
        }
        if (step % 50 == 0) {
            CHECK_INT(fs_mount(&flash), BH_OK);
            CHECK(model_ok());
        }
        if (tb_failures != failures)
            break;
    }
    CHECK(model_ok());
    CHECK(fulls > 10 && oks > 100);
    /* empty it all: removes always work */
    for (i = 0; i < 16; i++)
        if (model[i].pieces >= 0)
            CHECK_INT(fs_remove(fname(i)), BH_OK);
    CHECK_INT(fs_space(&used, &lim), 0);
    CHECK_INT(used, 0);
    CHECK_INT(overwrites, 0);
    CHECK_INT(out_of_bounds, 0);
}

/* ---- power cuts ---------------------------------------------------------------------------- */
static int old_n, new_n;
static const char *cut_name;
static uint32_t csec;   /* the sector size of the power-cut runs */
static size_t static_n;

/* The other files are intact, and `cut_name` is old_a or new_a. */
static int old_or_new(void)
{
    return is("config.py", c_data, sizeof c_data) && is("static.pem", b_data, (int)static_n) &&
           (is(cut_name, old_a, old_n) || is(cut_name, new_a, new_n));
}
static void op_write(void)
{
    CHECK_INT(put(cut_name, new_a, (size_t)new_n), BH_OK);
}
static void op_append(void)
{
    CHECK_INT(fs_write(cut_name, (uint32_t)old_n, new_a + old_n, (size_t)(new_n - old_n)), BH_OK);
}
static void op_remove(void)
{
    CHECK_INT(fs_remove(cut_name), BH_OK);
}

/* Runs op on the image in mem once whole, then again from the same image with the power cut
 * after 0, 1, 2, ... bytes erased or programmed, up to all of them (the first 64, then every
 * `stride`-th); after each cut the board boots: the file system must mount, hold the old or
 * the new file, and take a write. */
static long stride = 1;
static long every_cut(const char *what, void (*op)(void))
{
    static long k, total;
    static int before_fails;
    memcpy(before, mem, flash.size);
    CHECK_INT(fs_mount(&flash), BH_OK);
    spent = 0;
    op();
    total = spent;
    CHECK(old_or_new());
    before_fails = tb_failures;
    for (k = 0; k < total && tb_failures == before_fails; k += k < 64 ? 1 : stride) {
        memcpy(mem, before, flash.size);
        CHECK_INT(fs_mount(&flash), BH_OK);
        budget = k;
        erase_down = (int)(k & 1);
        if (setjmp(power_cut) == 0) {
            op();
            CHECK(!"the operation ended before its power cut");
        }
        budget = -1;
        int rc = fs_mount(&flash);
        if (rc != BH_OK || !old_or_new())
            fprintf(stderr, "%s: power cut after %ld of %ld bytes: mount %d\n", what, k, total, rc);
        CHECK_INT(rc, BH_OK);
        CHECK(old_or_new());
        CHECK_INT(put("after.txt", "after the cut", 13), BH_OK);
        CHECK_INT(fs_mount(&flash), BH_OK);
        CHECK(is("after.txt", "after the cut", 13));
        if (k % 16 == 0)
            CHECK(old_or_new());
    }
    CHECK_INT(overwrites, 0);
    CHECK_INT(out_of_bounds, 0);
    memcpy(mem, before, flash.size);
    return total;
}

static void setup_cut(const char *name, int oldn, int newn)
{
    chip(64 * 1024, csec);
    CHECK_INT(fs_mount(&flash), BH_ERR_PROTO);
    CHECK_INT(fs_format(), BH_OK);
    fill(c_data, sizeof c_data, 1);
    fill(b_data, sizeof b_data, 2);
    static_n = 5 * csec / 4;
    CHECK_INT(put("config.py", c_data, sizeof c_data), BH_OK);
    CHECK_INT(put("static.pem", b_data, static_n), BH_OK);
    cut_name = name;
    old_n = oldn;
    new_n = newn;
    fill(old_a, sizeof old_a, 3);
    fill(new_a, sizeof new_a, 4);
    if (oldn >= 0)
        CHECK_INT(put(name, old_a, (size_t)oldn), BH_OK);
}

/* Each change, in sectors of sec bytes, its power cut after every `step`-th byte. */
static void power_cuts(uint32_t sec, long step)
{
    long n[5];
    int s = (int)sec;
    csec = sec;
    stride = step;
    /* a new file over two sectors */
    setup_cut("new.bin", -1, 3 * s / 2);
    n[0] = every_cut("create", op_write);
    /* a file rewritten from 0 (truncated), longer */
    setup_cut("wlan.cfg", s / 2, 5 * s / 4);
    n[1] = every_cut("truncate", op_write);
    /* an append across a sector boundary */
    setup_cut("ca.pem", 3 * s / 4, 7 * s / 4);
    memcpy(new_a, old_a, (size_t)old_n);
    n[2] = every_cut("append", op_append);
    /* a remove */
    setup_cut("webrepl_cfg.py", 700, -1);
    n[3] = every_cut("remove", op_remove);
    /* a rewrite that collects garbage first: the first sector (config.py and the start of
     * static.pem) is the oldest; rewrite wlan.cfg until the next rewrite must copy them to
     * free it */
    setup_cut("wlan.cfg", s / 2, s / 2);
    int found = 0;
    for (int i = 0; i < 400 && !found; i++) {
        memcpy(before, mem, flash.size);
        fill(new_a, (size_t)new_n, (uint32_t)i + 10);
        spent = 0;
        CHECK_INT(put("wlan.cfg", new_a, (size_t)new_n), BH_OK);
        /* without collecting, a rewrite programs its bytes and erases at most one sector */
        if (spent > new_n + s + 216 + s / 2) {
            memcpy(mem, before, flash.size);
            found = 1;
        } else {
            memcpy(old_a, new_a, (size_t)new_n);
        }
    }
    CHECK(found);
    n[4] = every_cut("garbage collection", op_write);
    printf("figures: fs power cuts, %u-byte sectors, every %ld%s byte: create %ld, rewrite %ld, "
           "append %ld, remove %ld, rewrite with garbage collection %ld cut points\n", sec, step,
           step == 1 ? "st" : "th", n[0], n[1], n[2], n[3], n[4]);
}

/* ---- flash errors -------------------------------------------------------------------------- */
static void flash_errors(void)
{
    /* a program that fails in the middle of a write: BH_ERR_IO, the old file, and the next
     * write works */
    csec = SEC;
    for (int at = 0; at < 6; at++) {
        setup_cut("wlan.cfg", 2000, 6000);
        program_fails = at;
        CHECK_INT(put("wlan.cfg", new_a, 6000), BH_ERR_IO);
        program_fails = -1;
        CHECK(old_or_new() && is("wlan.cfg", old_a, 2000));
        CHECK_INT(put("wlan.cfg", new_a, 6000), BH_OK);
        CHECK(old_or_new() && is("wlan.cfg", new_a, 6000));
        CHECK_INT(fs_mount(&flash), BH_OK);
        CHECK(is("wlan.cfg", new_a, 6000));
    }
    /* a format whose header cannot be written: not mounted (no stale files), and the old
     * file system still mounts (the sector it erased was a free one) */
    program_fails = 0;
    CHECK_INT(fs_format(), BH_ERR_IO);
    CHECK_INT(fs_size("wlan.cfg"), BH_ERR_IO);
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(is("wlan.cfg", new_a, 6000));
    CHECK_INT(fs_format(), BH_OK);
    CHECK(is("wlan.cfg", NULL, -1));
    CHECK(is("config.py", NULL, -1));
    CHECK_INT(fs_mount(&flash), BH_OK);
    CHECK(is("config.py", NULL, -1));
}

/* ---- power cuts one after another ------------------------------------------------------ */
/* Random writes, appends and removes on a few files, one in three cut by a power loss at a
 * random byte, the board booting after each cut: what the cuts leave behind (killed records,
 * sectors closed early, copies of a collection that never committed) piles up, and every
 * file stays as the last call that returned, or the cut call, made it. */
static mfile cand;   /* the cut file as the call would have left it */
static void chaos(void)
{
    /* static: what longjmp() comes back to must not live in registers */
    static int step, cuts, f, what;
    static uint32_t n, seed, off;
    fresh(64 * 1024);
    for (int i = 0; i < 16; i++)
        model[i].pieces = -1;
    cuts = 0;
    for (step = 0; step < 1500 && !tb_failures; step++) {
        f = (int)(rand32() % 6);
        what = (int)(rand32() % 3);
        n = 1 + rand32() % 3000;
        seed = rand32();
        off = 0;
        cand = model[f];
        if (what == 0 && model[f].pieces >= 0) {
            cand.pieces = -1;
        } else {
            if (what == 1 && model[f].pieces >= 0 && model[f].pieces < MAX_PIECES &&
                model_len(f) + n <= sizeof new_a)
                off = model_len(f);
            else
                cand.pieces = 0;
            cand.seed[cand.pieces] = seed;
            cand.len[cand.pieces++] = n;
            fill(new_a, n, seed);
        }
        /* a cut within the call's own bytes, or within a sector erase and a collection */
        budget = -1;
        if (rand32() % 3 == 0)
            budget = (long)(rand32() % (rand32() % 2 ? n + 200 : 12000));
        erase_down = (int)(rand32() & 1);
        if (setjmp(power_cut) == 0) {
            int rc = cand.pieces < 0 ? fs_remove(fname(f)) : fs_write(fname(f), off, new_a, n);
            budget = -1;
            CHECK(rc == BH_OK || rc == BH_ERR_FULL);
            if (rc == BH_OK)
                model[f] = cand;
        } else {
            budget = -1;
            cuts++;
            CHECK_INT(fs_mount(&flash), BH_OK);
            mfile was = model[f];
            model[f] = cand;
            if (!model_is(f))
                model[f] = was;
        }
        if (step % 20 == 0)
            CHECK_INT(fs_mount(&flash), BH_OK);
        CHECK(model_ok());
    }
    printf("figures: fs power cuts one after another: %d calls, %d of them cut\n", step, cuts);
    CHECK(cuts > 150);
    CHECK_INT(overwrites, 0);
    CHECK_INT(out_of_bounds, 0);
}

/* ---- wear ---------------------------------------------------------------------------------- */
static void wear(void)
{
    fresh(64 * 1024);
    uint8_t ca[9000], cfg[600], w[120];
    fill(ca, sizeof ca, 5);
    fill(cfg, sizeof cfg, 6);
    CHECK_INT(put("ca.pem", ca, sizeof ca), BH_OK);
    CHECK_INT(put("config.py", cfg, sizeof cfg), BH_OK);
    memset(erases, 0, sizeof erases);
    /* wlan.cfg rewritten on every wake: 5000 wakes */
    const int writes = 5000;
    for (int i = 0; i < writes; i++) {
        fill(w, sizeof w, (uint32_t)i);
        CHECK_INT(put("wlan.cfg", w, sizeof w), BH_OK);
        if (i % 500 == 0)
            CHECK_INT(fs_mount(&flash), BH_OK);
    }
    CHECK(is("wlan.cfg", w, sizeof w));
    CHECK(is("ca.pem", ca, sizeof ca));
    CHECK(is("config.py", cfg, sizeof cfg));
    uint32_t lo = 0xFFFFFFFF, hi = 0, sum = 0;
    for (int s = 0; s < 16; s++) {
        lo = erases[s] < lo ? erases[s] : lo;
        hi = erases[s] > hi ? erases[s] : hi;
        sum += erases[s];
    }
    printf("figures: fs wear: %d rewrites of 120 bytes next to 9.6 KB of other files: "
           "%u erases, each of 16 sectors erased %u..%u times\n", writes, sum, lo, hi);
    CHECK(lo > 0);
    CHECK(hi <= lo + 1);              /* the ring erases each sector in turn */
    CHECK(sum < (uint32_t)writes / 5); /* and packs many small writes in a sector */
}

/* ---- damaged and random images ------------------------------------------------------------- */
static void damaged(void)
{
    /* random bytes: no file system; every call says so; format makes one */
    for (int t = 0; t < 50; t++) {
        chip(64 * 1024, SEC);
        for (uint32_t i = 0; i < flash.size; i++)
            mem[i] = (uint8_t)rand32();
        CHECK_INT(fs_mount(&flash), BH_ERR_PROTO);
        CHECK_INT(fs_size("config.py"), BH_ERR_IO);
        CHECK_INT(fs_write("config.py", 0, "x", 1), BH_ERR_IO);
        CHECK_INT(fs_format(), BH_OK);
        CHECK_INT(put("config.py", "x", 1), BH_OK);
        CHECK_INT(fs_mount(&flash), BH_OK);
        CHECK(is("config.py", "x", 1));
    }
    /* a used file system with bytes changed at random: it mounts or says it is not one; a
     * file reads as one of the contents it had, or not at all */
    fresh(64 * 1024);
    for (int ver = 0; ver < 3; ver++)
        for (int f = 0; f < 3; f++) {
            fill(new_a, 1000 + 2000 * (size_t)f, (uint32_t)(ver * 3 + f));
            CHECK_INT(put(fname(f), new_a, 1000 + 2000 * (size_t)f), BH_OK);
        }
    memcpy(before, mem, flash.size);
    int mounted = 0, intact = 0;
    for (int t = 0; t < 300; t++) {
        memcpy(mem, before, flash.size);
        int flips = 1 + (int)(rand32() % 8);
        for (int i = 0; i < flips; i++) {
            uint32_t at = rand32() % flash.size;
            if (t % 2)
                at = at % 4096 + 4096 * (rand32() % 4);   /* in the used part */
            mem[at] ^= (uint8_t)(1 + rand32() % 255);
        }
        int rc = fs_mount(&flash);
        CHECK(rc == BH_OK || rc == BH_ERR_PROTO);
        if (rc != BH_OK)
            continue;
        mounted++;
        char name[FS_NAME_MAX + 1];
        for (int i = 0; fs_list(i, name, sizeof name) == 0; i++) {
            int f = -1;
            for (int j = 0; j < 3; j++)
                if (strcmp(name, fname(j)) == 0)
                    f = j;
            CHECK(f >= 0);
            if (f < 0)
                continue;
            int n = fs_read(name, 0, got, sizeof got);
            CHECK(n == BH_ERR_IO || n == 1000 + 2000 * f);
            int ok = n < 0;
            for (int ver = 0; ver < 3 && n > 0; ver++) {
                fill(new_a, (size_t)n, (uint32_t)(ver * 3 + f));
                ok |= memcmp(got, new_a, (size_t)n) == 0;
            }
            CHECK(ok);
            intact += n > 0;
            /* an append to what it holds reads back exactly; a file that cannot be read is
             * rewritten */
            if (n > 0) {
                memcpy(new_a, got, (size_t)n);
                fill(new_a + n, 100, (uint32_t)t);
                CHECK_INT(fs_write(name, (uint32_t)n, new_a + n, 100), BH_OK);
                CHECK(is(name, new_a, n + 100));
            } else {
                CHECK_INT(put(name, "again", 5), BH_OK);
                CHECK(is(name, "again", 5));
            }
        }
        /* and it still takes a write */
        CHECK_INT(put("new.txt", "new", 3), BH_OK);
        CHECK(is("new.txt", "new", 3));
    }
    printf("figures: fs damaged images: %d of 300 mounted, %d files read whole\n", mounted, intact);
    CHECK(mounted > 200);
    CHECK_INT(out_of_bounds, 0);
}

static void geometry(void)
{
    chip(64 * 1024, SEC);
    CHECK_INT(fs_mount(NULL), BH_ERR_ARG);
    CHECK_INT(fs_format(), BH_ERR_STATE);
    flash.sector = 256;
    CHECK_INT(fs_mount(&flash), BH_ERR_ARG);
    flash.sector = 3000;
    CHECK_INT(fs_mount(&flash), BH_ERR_ARG);
    flash.sector = SEC;
    flash.size = 3 * SEC;
    CHECK_INT(fs_mount(&flash), BH_ERR_ARG);
    /* the largest region (1 MB; 64 KB on the lx106): 16 files of a 64th of it (16 KB), each
     * rewritten */
    fresh(MAXSZ);
    uint8_t *d = before;
    size_t dn = MAXSZ / 64;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 16; i++) {
            fill(d, dn, (uint32_t)(i + 16 * r));
            CHECK_INT(put(fname(i), d, dn), BH_OK);
        }
    CHECK_INT(fs_mount(&flash), BH_OK);
    for (int i = 0; i < 16; i++) {
        fill(d, dn, (uint32_t)(i + 16));
        CHECK(is(fname(i), d, (int)dn));
    }
    uint32_t used, lim;
    CHECK_INT(fs_space(&used, &lim), 0);
    printf("figures: fs %u KB: 16 files of %zu bytes use %u bytes; limit %u\n", MAXSZ / 1024,
           dn, used, lim);
}

int main(void)
{
    /* valgrind's run cuts at fewer bytes (tests/CMakeLists.txt), and so does QEMU's */
#ifdef __XTENSA__
    long more = 4;
#else
    const char *st = getenv("BH_FS_CUT_STRIDE");
    long more = st && atol(st) > 0 ? atol(st) : 1;
#endif
    tb_reset();
    round_trip();
    same_as_test_board();
    full();
    flash_errors();
    chaos();
    wear();
    damaged();
    geometry();
    power_cuts(1024, more);        /* every byte */
    power_cuts(SEC, 16 * more);    /* the ESP8266's sectors: every 16th byte */
    return tb_done("test_fs");
}
