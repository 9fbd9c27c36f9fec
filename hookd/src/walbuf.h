/*
 * walbuf.h - a SQLite VFS over the default one that writes each commit's WAL frames in one
 * system call.
 *
 * SQLite writes a WAL frame as two pwrite()s (its 24-byte header, then the page), so a group
 * commit of 5 pages made 10 pwrite()s before its fdatasync(); on a VM, where every system call
 * costs, that was 1.2 calls per trigger. This VFS keeps the WAL's writes in memory while they
 * are contiguous and writes them out in one pwrite() as soon as the commit's last frame is
 * written (so that an error still fails that commit, as before), and before anything else
 * touches the file: a read, a sync, a truncate, a size, a file control, its close, and the
 * barrier SQLite places before publishing new frames to other connections (the wal-index
 * header). What reaches the disk, and when it is synced, does not change: the same bytes at
 * the same offsets before the same fdatasync(); only the number of calls does.
 *
 * The database and other files pass through unchanged.
 */
#ifndef HOOKD_WALBUF_H
#define HOOKD_WALBUF_H

/* the VFS's name, for sqlite3_open_v2() */
#define HK_WALBUF_VFS "hookd-walbuf"

/* Registers the VFS (once; thread-safe): SQLITE_OK or SQLite's error. */
int hk_walbuf_register(void);

#endif
