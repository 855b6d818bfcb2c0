# The wire protocol decoder. The codec sources are compiled into the target itself so that libFuzzer's coverage
# instrumentation sees the decoder's branches (prima_cluster as a library is built without it, and needs libzmq).
prima_fuzzer(fuzz_protocol SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_protocol.cpp DEPS prima_core)
target_sources(fuzz_protocol PRIVATE
  ${PRIMA_SRC_DIR}/cluster/protocol.cpp
  ${PRIMA_SRC_DIR}/cluster/activations.cpp
  ${PRIMA_SRC_DIR}/cluster/fields.cpp
  ${PRIMA_SRC_DIR}/cluster/config.cpp)
target_include_directories(fuzz_protocol PRIVATE ${PRIMA_SRC_DIR} ${CMAKE_SOURCE_DIR}/tests/cluster)
