# stox_loadgen: the server benchmark (src/bench; scripts/bench-server.sh runs
# the recorded configurations). load_sessions.cc is the only file of it that
# includes Beast.
set(STOX_BENCH_DIR ${PROJECT_SOURCE_DIR}/src/bench)
add_executable(stox_loadgen
  ${STOX_BENCH_DIR}/loadgen.cc
  ${STOX_BENCH_DIR}/load_sessions.cc
  ${STOX_BENCH_DIR}/load_stats.cc)
target_include_directories(stox_loadgen PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(stox_loadgen
  PRIVATE stox_server stox_client stox_core_testing simdjson::simdjson CLI11::CLI11 Boost::headers Threads::Threads)

# Smoke runs with tiny numbers so the tool cannot rot: the load generator
# checks every answer itself and exits non-zero on anything unexpected.
add_test(NAME loadgen_smoke
         COMMAND stox_loadgen --seconds 1 --warmup 0 --connections 4 --accounts 4)
add_test(NAME loadgen_ws_smoke
         COMMAND stox_loadgen --seconds 1 --warmup 0 --connections 4 --accounts 4
                 --ws-subscribers 3 --sync none --client-threads 2)
add_test(NAME loadgen_bad_flag_exits_2
         COMMAND sh -c "\"$<TARGET_FILE:stox_loadgen>\" --connections 0; test $? -eq 2")
set_tests_properties(loadgen_smoke loadgen_ws_smoke PROPERTIES TIMEOUT 120)
