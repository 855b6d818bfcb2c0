# The cluster-file JSON parser (scheduler::parse_cluster_json / parse_device_json: what `prima plan --profiles`, the
# profile cache and ProfileReply go through). The parser sources are compiled into the target so that coverage
# instrumentation sees them; prima_scheduler as a library would also drag in GLPK.
prima_fuzzer(fuzz_cluster_json SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cluster_json.cpp
             DEPS prima_core nlohmann_json::nlohmann_json)
target_sources(fuzz_cluster_json PRIVATE
  ${PRIMA_SRC_DIR}/scheduler/profile_json.cpp
  ${PRIMA_SRC_DIR}/scheduler/units.cpp
  ${PRIMA_SRC_DIR}/scheduler/device_profile.cpp)
target_include_directories(fuzz_cluster_json PRIVATE ${PRIMA_SRC_DIR})
