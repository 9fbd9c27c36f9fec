/* scratch.c - the buffer of scratch.h: the press path's, lent to the optional components. */
#include "app/scratch.h"

app_scratch_buf app_scratch;
