# PRIMA_KERNELS_ONLY: the kernels and the modules below them need nothing from Debian but fmt. A cross build has
# no arm64 libfmt, so fmt is used header-only from the host's (architecture-independent) headers: only the fmt/
# folder is exposed, never the host's /usr/include as a whole.
find_package(fmt QUIET)
if(NOT fmt_FOUND)
  find_path(PRIMA_FMT_HEADERS fmt/format.h PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  set(fmt_shim ${CMAKE_BINARY_DIR}/fmt-headers)
  file(MAKE_DIRECTORY ${fmt_shim})
  file(CREATE_LINK ${PRIMA_FMT_HEADERS}/fmt ${fmt_shim}/fmt SYMBOLIC)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${fmt_shim}
                                            INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
endif()
