# The GGUF reader. Its sources are compiled into the target so that coverage instrumentation sees the parser.
prima_fuzzer(fuzz_gguf SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_gguf.cpp DEPS fmt::fmt)
target_sources(fuzz_gguf PRIVATE
  ${PRIMA_SRC_DIR}/gguf/gguf.cpp
  ${PRIMA_SRC_DIR}/tensor/types.cpp
  ${PRIMA_SRC_DIR}/memory/mapped_file.cpp
  ${PRIMA_SRC_DIR}/memory/ranges.cpp
  ${PRIMA_SRC_DIR}/core/error.cpp)
target_include_directories(fuzz_gguf PRIVATE ${PRIMA_SRC_DIR})
target_compile_definitions(fuzz_gguf PRIVATE PRIMA_FIXTURES_DIR="${PRIMA_FIXTURES_DIR}")
