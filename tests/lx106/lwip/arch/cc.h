/* arch/cc.h - lwIP's platform header, which lwIP includes unconditionally: picolibc on the
 * lx106 gives lwIP all it needs (stdint.h, inttypes.h, limits.h), so lwIP's defaults stand. */
