# The tokenizers on arbitrary text with the fixture vocabularies. The tokenizer sources are compiled into the target
# so that coverage instrumentation sees them; PCRE2 comes from pkg-config (imported targets are per directory).
pkg_check_modules(PCRE2_FUZZ REQUIRED IMPORTED_TARGET libpcre2-8)
file(GLOB prima_fuzz_tokenizer_sources ${PRIMA_SRC_DIR}/tokenizer/*.cpp)
prima_fuzzer(fuzz_tokenizer SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_tokenizer.cpp DEPS prima_gguf PkgConfig::PCRE2_FUZZ)
target_sources(fuzz_tokenizer PRIVATE ${prima_fuzz_tokenizer_sources})
target_include_directories(fuzz_tokenizer PRIVATE ${PRIMA_SRC_DIR})
target_compile_definitions(fuzz_tokenizer PRIVATE PRIMA_FIXTURES_DIR="${PRIMA_FIXTURES_DIR}")
