/*
 * fs.h - a small power-cut-safe file system on raw NOR flash (flash.h), for boards that have
 * no file system of their own (the bare-metal lwIP board, the ESP8266 without an SDK one).
 *
 * The files are the board's flash files of hal.h: fs_hal.c defines hal_fs_* with these
 * functions, so a port links fs.c and fs_hal.c and mounts at boot:
 *
 *     static const bh_flash flash = {256 * 1024, 4096, my_read, my_erase, my_program};
 *     if (fs_mount(&flash) != BH_OK) { report it; fs_format(); }
 *
 * fs_size/read/write/remove/list have the semantics of hal_fs_size/read/write/remove/list.
 * One fs_write() or fs_remove() cut short by a power loss at any byte leaves the file as it was
 * before the call or as the call made it, never anything else; a write that gets BH_ERR_FULL
 * leaves the file as it was. No heap, no OS calls; 440 bytes of static RAM. The on-flash
 * format, the power-cut argument and the limits: docs/flash-fs.md.
 */
#ifndef BH_FS_H
#define BH_FS_H

#include <stddef.h>
#include <stdint.h>

#include "fs/flash.h"

#ifndef FS_MAX_FILES
#define FS_MAX_FILES 16     /* files at once; each costs 24 bytes of static RAM */
#endif
#define FS_NAME_MAX 63      /* longest file name in bytes (NUL not counted), as the test board */

/* Mounts the file system on f (which must stay valid while mounted). BH_ERR_PROTO: no file
 * system there (a new chip, another format, or every sector header damaged): fs_format() then
 * makes an empty one. BH_ERR_ARG: f's geometry is unusable (sector not 512..65536 bytes, size
 * not a multiple of it, fewer than 4 sectors, over 1 GB). BH_ERR_IO: the flash failed.
 * Damaged records in a mounted file system are treated as absent: a file whose newest
 * record is damaged is as it was before that record, or absent; reading data whose record is
 * damaged gives BH_ERR_IO, never wrong bytes. */
int fs_mount(const bh_flash *f);
/* An empty file system on the flash given to the last fs_mount() (mounted or not), then
 * mounted: one sector erased and its header written, so it is quick; the other sectors are
 * erased when the log reaches them. BH_ERR_STATE before any fs_mount(). */
int fs_format(void);

/* As hal.h. When not mounted they return BH_ERR_IO. */
int fs_size(const char *name);
int fs_read(const char *name, uint32_t off, void *buf, size_t len);
int fs_write(const char *name, uint32_t off, const void *buf, size_t len);
int fs_remove(const char *name);
int fs_list(int index, char *name, size_t cap);

/* Bytes the files take on flash now (data and record headers) and the most they may take:
 * a write is refused with BH_ERR_FULL when it would go over (while a file is rewritten from
 * offset 0 its old and new contents both count). */
int fs_space(uint32_t *used, uint32_t *limit);

#endif
