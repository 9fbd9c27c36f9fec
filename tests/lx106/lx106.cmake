# The unit tests once more on the ESP8266's CPU: each tests/unit/test_*.c, with the test board
# and the firmware, cross-compiled for the Xtensa LX106 with Debian's gcc-xtensa-lx106 and
# picolibc, and run bare in QEMU (qemu-system-xtensa -M sim -cpu lx106). Included from
# tests/CMakeLists.txt after the unit tests are defined. See docs/lx106-tests.md.
#
# The cross build is its own CMake project (tests/lx106/CMakeLists.txt), configured and built
# by the test lx106.build (a fixture of the others), so that a missing cross toolchain or a
# file that does not build for lx106 fails those tests, not everyone's host build. What each
# test links is read here from the host targets, so both builds link the same sources.
# lwIP's tree, as for `make mps2`: LWIP_DIR (the environment's when the tests run, or this
# cache entry), by default ../shared/lwip-2.1.3 beside the checkout
if(NOT DEFINED LWIP_DIR)
  set(lwip_default "${PROJECT_SOURCE_DIR}/../shared/lwip-2.1.3")
  if(DEFINED ENV{LWIP_DIR})
    set(lwip_default "$ENV{LWIP_DIR}")
  endif()
  set(LWIP_DIR "${lwip_default}" CACHE PATH "lwIP 2.1.3 source tree")
endif()

set(BH_LX106_OUT ${CMAKE_BINARY_DIR}/lx106)
set(lx106_list "# written by tests/lx106/lx106.cmake: what each unit test links, from the host build\n")
set(lx106_lib_sources "")
set(lx106_includes "${PROJECT_SOURCE_DIR}/firmware" "${CMAKE_CURRENT_SOURCE_DIR}/board")
set(lx106_tests "")
foreach(src ${BH_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  list(APPEND lx106_tests ${name})
  get_target_property(test_srcs ${name} SOURCES)
  list(TRANSFORM test_srcs PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/" REGEX "^[^/]")
  string(APPEND lx106_list "set(BH_LX106_SRC_${name} \"${test_srcs}\")\n")
  # the libraries it links, and theirs (the test board links the firmware)
  get_target_property(todo ${name} LINK_LIBRARIES)
  set(libs "")
  while(todo)
    list(POP_FRONT todo lib)
    if(NOT TARGET ${lib} OR lib IN_LIST libs)
      continue()
    endif()
    list(APPEND libs ${lib})
    get_target_property(more ${lib} LINK_LIBRARIES)
    if(more)
      list(APPEND todo ${more})
    endif()
  endwhile()
  foreach(lib ${libs})
    get_target_property(lib_dir ${lib} SOURCE_DIR)
    get_target_property(lib_srcs ${lib} SOURCES)
    get_target_property(lib_incs ${lib} INTERFACE_INCLUDE_DIRECTORIES)
    if(lib_incs)
      list(FILTER lib_incs EXCLUDE REGEX "\\$<")   # no generator expressions at configure time
      list(APPEND lx106_includes ${lib_incs})
    endif()
    # the firmware's extra warnings (only warnings: other host flags need not suit the lx106)
    get_target_property(lib_opts ${lib} COMPILE_OPTIONS)
    if(lib_opts)
      list(FILTER lib_opts INCLUDE REGEX "^-W")
      list(REMOVE_DUPLICATES lib_opts)
    endif()
    foreach(s ${lib_srcs})
      get_filename_component(s ${s} ABSOLUTE BASE_DIR ${lib_dir})
      # hal_sha1: Debian's mbedTLS is built for the host only; lwIP's PolarSSL SHA-1 instead
      if(s MATCHES "/sha1_mbedtls\\.c$")
        # (${LWIP_DIR} left for the cross build to expand: build.sh may be given another)
        list(APPEND lx106_lib_sources "${CMAKE_CURRENT_SOURCE_DIR}/lx106/sha1_lwip.c"
             "\${LWIP_DIR}/src/netif/ppp/polarssl/sha1.c")
      elseif(NOT s IN_LIST lx106_lib_sources)
        list(APPEND lx106_lib_sources ${s})
        if(lib_opts)
          string(APPEND lx106_list
                 "set_source_files_properties(\"${s}\" PROPERTIES COMPILE_OPTIONS \"${lib_opts}\")\n")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES lx106_lib_sources)
list(REMOVE_DUPLICATES lx106_includes)
string(APPEND lx106_list "set(BH_LX106_TESTS \"${lx106_tests}\")\n"
       "set(BH_LX106_LIB_SOURCES \"${lx106_lib_sources}\")\n"
       "set(BH_LX106_INCLUDES \"${lx106_includes}\")\n")
file(WRITE ${BH_LX106_OUT}/sources.cmake "${lx106_list}")

add_test(NAME lx106.build COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lx106/build.sh
         ${BH_LX106_OUT} ${BH_LX106_OUT}/sources.cmake ${LWIP_DIR})
set_tests_properties(lx106.build PROPERTIES FIXTURES_SETUP lx106 LABELS lx106
  SKIP_RETURN_CODE 77 TIMEOUT 600)
foreach(name ${lx106_tests} selftest)
  add_test(NAME lx106.${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lx106/run.sh
           ${BH_LX106_OUT} ${name})
  set_tests_properties(lx106.${name} PROPERTIES FIXTURES_REQUIRED lx106 LABELS lx106
    SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()
# the "figures:" line of the run: tests run, passed, time in QEMU, the deepest stack
add_test(NAME lx106.figures COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lx106/run.sh
         ${BH_LX106_OUT} --figures)
set_tests_properties(lx106.figures PROPERTIES FIXTURES_CLEANUP lx106 LABELS lx106
  SKIP_RETURN_CODE 77 TIMEOUT 60)
