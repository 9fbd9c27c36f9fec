/* main.c - the firmware's entry on mps2-an385: the board first, then the application as on
 * every port; when the app returns without sleeping, the console (REPL) runs, as
 * MicroPython's does after main.py. Linked into bh_mps2.elf only (CMakeLists.txt). */
#include "app/app.h"
#include "console/console.h"
#include "mps2.h"

int main(void)
{
    mps2_board_init();
    app_main();
    console_main();
}
