# The engine thread (core), WebSocket fan-out (ws_hub), the REST/WS API (api),
# the demo market and the wiring (server): `stox serve`.
add_library(stox_server core.cc ws_hub.cc api.cc demo_market.cc server.cc)
target_link_libraries(stox_server
  PUBLIC stox_store stox_marketdata stox_server_parse stox_server_security stox_transport)

stox_test(core_test SOURCES core_test.cc LIBS stox_server stox_core_testing)
stox_test(ws_hub_test SOURCES ws_hub_test.cc LIBS stox_server stox_core_testing simdjson::simdjson)
stox_test(server_test SOURCES server_test.cc LIBS stox_server stox_client simdjson::simdjson)

# The real binary, killed with SIGKILL at random moments (STOX_CRASHES, default 20).
stox_test(crash_test SOURCES crash_test.cc LIBS stox_server stox_client simdjson::simdjson)
target_compile_definitions(crash_test PRIVATE STOX_BINARY="$<TARGET_FILE:stox>")
add_dependencies(crash_test stox)

# Matching pause while the follower writes a snapshot of ~1 M resting orders.
add_executable(snapshot_pause_benchmark snapshot_pause_benchmark.cc)
target_link_libraries(snapshot_pause_benchmark PRIVATE stox_server)
