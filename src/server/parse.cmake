# Request parsing (request_parser.h): JSON bodies, WebSocket messages,
# query strings -> typed requests and engine commands. Pure functions.
add_library(stox_server_parse request_parser.cc)
target_link_libraries(stox_server_parse PUBLIC stox_marketdata stox_core stox_common
                                        PRIVATE simdjson::simdjson)

stox_test(request_parser_test SOURCES request_parser_test.cc
          LIBS stox_server_parse simdjson::simdjson)

# libFuzzer: arbitrary bytes into every parser and converter (`make fuzz-request`).
if(STOX_FUZZ)
  add_executable(request_fuzz request_fuzz.cc)
  target_link_libraries(request_fuzz PRIVATE stox_server_parse simdjson::simdjson)
  target_link_options(request_fuzz PRIVATE -fsanitize=fuzzer)
endif()
