/* main.c - the firmware's entry on mps2-an385: the board first, then its flash file system,
 * then the application as on every port; when the app returns without sleeping, the console
 * (REPL) runs, as MicroPython's does after main.py. Linked into bh_mps2.elf only
 * (CMakeLists.txt). */
#include "app/app.h"
#include "console/console.h"
#include "fs/fs.h"
#include "mps2.h"

/* Flash with no file system (a new board, or bytes from elsewhere) is formatted, as
 * MicroPython does on its first boot: config.py is then missing, and the application says so
 * and blinks its config error. */
static void mount(void)
{
    int rc = fs_mount(mps2_flash());
    if (rc == BH_ERR_PROTO) {
        hal_report("error", "flash", rc, "no file system in flash: formatting it empty");
        rc = fs_format();
    }
    if (rc != BH_OK)
        hal_report("error", "flash", rc, "the file system cannot be used");
}

int main(void)
{
    mps2_board_init();
    mount();
    app_main();
    console_main();
}
