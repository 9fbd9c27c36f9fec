/*
 * fs_hal.c - the board contract's flash files (hal.h) on the portable file system (fs.h).
 * A port without a file system of its own links this and fs.c, and calls fs_mount() at boot.
 */
#include "fs/fs.h"
#include "hal/hal.h"

int hal_fs_size(const char *name)
{
    return fs_size(name);
}

int hal_fs_read(const char *name, uint32_t off, void *buf, size_t len)
{
    return fs_read(name, off, buf, len);
}

int hal_fs_write(const char *name, uint32_t off, const void *buf, size_t len)
{
    return fs_write(name, off, buf, len);
}

int hal_fs_remove(const char *name)
{
    return fs_remove(name);
}

int hal_fs_list(int index, char *name, size_t cap)
{
    return fs_list(index, name, cap);
}
