/* walbuf.c - the WAL write-coalescing VFS (walbuf.h). */
#include "walbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <sqlite3.h>

/* the WAL format's frame header (sqlite.org/fileformat2.html#walformat): a frame is this
 * header, written by SQLite in its own call, then the page; bytes 4-7 of the header are the
 * database's size in pages after a commit frame, 0 in the other frames */
#define WAL_FRAME_HDR 24
/* pending bytes held at most; a bigger commit goes out in several writes */
#define PENDING_MAX (4u << 20)

typedef struct wb_file wb_file;
struct wb_file {
    sqlite3_file base;           /* our methods */
    sqlite3_file *real;          /* the default VFS's file, allocated right after this */
    bool wal;                    /* a WAL file with a database file to publish through */
    wb_file *db;                 /* WAL: its database file (the same connection's) */
    wb_file *walf;               /* database: its WAL file while open */
    /* WAL: the pending writes, one contiguous range of the file */
    unsigned char *buf;
    size_t len, cap;
    sqlite3_int64 off;
    bool commit_next;            /* the next write is the page of a commit frame */
};

static sqlite3_vfs *real_vfs;

static int wb_flush(wb_file *f)
{
    if (f->len == 0)
        return SQLITE_OK;
    size_t len = f->len;
    f->len = 0;   /* written or failed, never again: SQLite fails the commit on an error */
    f->commit_next = false;
    return f->real->pMethods->xWrite(f->real, f->buf, (int)len, f->off);
}

static int wb_close(sqlite3_file *file)
{
    wb_file *f = (wb_file *)file;
    int rc = f->wal ? wb_flush(f) : SQLITE_OK;
    if (f->wal && f->db)
        f->db->walf = NULL;
    if (f->walf) {   /* SQLite closes the WAL first; should it not, the WAL writes through */
        (void)wb_flush(f->walf);
        f->walf->db = NULL;
        f->walf->wal = false;
    }
    int rc2 = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
    wb_file *f = (wb_file *)file;
    if (f->wal) {
        int rc = wb_flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xRead(f->real, p, n, off);
}

/* room for n more pending bytes (false: write them through) */
static bool wb_room(wb_file *f, size_t n)
{
    if (f->len + n <= f->cap)
        return true;
    if (f->len + n > PENDING_MAX)
        return false;
    size_t cap = f->cap ? f->cap : 64 * 1024;
    while (cap < f->len + n)
        cap *= 2;
    unsigned char *b = sqlite3_realloc64(f->buf, cap);
    if (!b)
        return false;
    f->buf = b;
    f->cap = cap;
    return true;
}

static int wb_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
    wb_file *f = (wb_file *)file;
    if (!f->wal || n <= 0)
        return f->real->pMethods->xWrite(f->real, p, n, off);
    int rc = SQLITE_OK;
    if (f->len > 0 && off != f->off + (sqlite3_int64)f->len) {
        rc = wb_flush(f);   /* keeps the order of writes that are not contiguous */
        if (rc != SQLITE_OK)
            return rc;
    }
    bool commit = f->commit_next;
    if (!wb_room(f, (size_t)n)) {
        rc = wb_flush(f);
        if (rc == SQLITE_OK)
            rc = f->real->pMethods->xWrite(f->real, p, n, off);
        return rc;
    }
    if (f->len == 0)
        f->off = off;
    memcpy(f->buf + f->len, p, (size_t)n);
    f->len += (size_t)n;
    if (commit)   /* the commit's last write: out now, so that its error fails the commit */
        return wb_flush(f);
    const unsigned char *h = p;
    f->commit_next = n == WAL_FRAME_HDR && (h[4] | h[5] | h[6] | h[7]) != 0;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    wb_file *f = (wb_file *)file;
    int rc = f->wal ? wb_flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    wb_file *f = (wb_file *)file;
    int rc = f->wal ? wb_flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    wb_file *f = (wb_file *)file;
    int rc = f->wal ? wb_flush(f) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *file, int lock)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xLock(f->real, lock);
}

static int wb_unlock(sqlite3_file *file, int lock)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int wb_check_reserved(sqlite3_file *file, int *out)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    wb_file *f = (wb_file *)file;
    if (f->wal) {
        int rc = wb_flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *file)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int wb_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **p)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, p);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

/* SQLite's barrier before it publishes new frames in the wal-index: they must be in the file
 * by then, for the other connections read them from there. The commit frame's write has
 * already sent them; this is the safety net (an error here has nowhere to go: the commit's
 * write reported it). */
static void wb_shm_barrier(sqlite3_file *file)
{
    wb_file *f = (wb_file *)file;
    if (f->walf)
        (void)wb_flush(f->walf);
    f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *file, int del)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xFetch(f->real, off, n, p);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    wb_file *f = (wb_file *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods wb_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    wb_file *f = (wb_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)&f[1];
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        f->base.pMethods = NULL;   /* SQLite calls no xClose after a failed open */
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    /* the default VFS's files have every method of version 3; another would need checks */
    if (f->real->pMethods->iVersion < 3) {
        f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    f->base.pMethods = &wb_methods;
    if ((flags & SQLITE_OPEN_WAL) && name) {
        /* the same connection's database file, through which SQLite publishes the frames */
        wb_file *db = (wb_file *)sqlite3_database_file_object(name);
        if (db && db->base.pMethods == &wb_methods && !db->walf) {
            f->wal = true;
            f->db = db;
            db->walf = f;
        }
    }
    return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *wb_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void wb_dlerror(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*wb_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void wb_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}

static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, t);
}

static int wb_last_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, msg) : 0;
}

static int wb_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    if (real_vfs->iVersion >= 2 && real_vfs->xCurrentTimeInt64)
        return real_vfs->xCurrentTimeInt64(real_vfs, t);
    double d = 0;
    int rc = real_vfs->xCurrentTime(real_vfs, &d);
    *t = (sqlite3_int64)(d * 86400000.0);
    return rc;
}

static sqlite3_vfs wb_vfs = {
    .iVersion = 2,
    .zName = HK_WALBUF_VFS,
    .xOpen = wb_open,
    .xDelete = wb_delete,
    .xAccess = wb_access,
    .xFullPathname = wb_full_pathname,
    .xDlOpen = wb_dlopen,
    .xDlError = wb_dlerror,
    .xDlSym = wb_dlsym,
    .xDlClose = wb_dlclose,
    .xRandomness = wb_randomness,
    .xSleep = wb_sleep,
    .xCurrentTime = wb_current_time,
    .xGetLastError = wb_last_error,
    .xCurrentTimeInt64 = wb_current_time64,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

static void do_register(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return;
    wb_vfs.szOsFile = (int)sizeof(wb_file) + real_vfs->szOsFile;
    wb_vfs.mxPathname = real_vfs->mxPathname;
    register_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

int hk_walbuf_register(void)
{
    pthread_once(&once, do_register);
    return register_rc;
}
