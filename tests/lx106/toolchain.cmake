# The ESP8266's CPU: Debian's gcc-xtensa-lx106 with picolibc-xtensa-lx106-elf, bare metal.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR xtensa)
set(CMAKE_C_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_ASM_COMPILER xtensa-lx106-elf-gcc)
# nothing links without this project's linker script: check the compiler with a library
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -mlongcalls")
set(CMAKE_ASM_FLAGS_INIT "--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -mlongcalls")
