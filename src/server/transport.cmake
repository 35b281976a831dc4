# The transport (Beast HTTP + WebSocket), the client library, the CLI client.
# transport.cc and http_client.cc are the only files that include Beast/Asio:
# Beast compiles slowly, so everything else sees plain headers.
add_library(stox_transport transport.cc)
target_link_libraries(stox_transport PUBLIC stox_common Threads::Threads PRIVATE Boost::headers)

add_library(stox_client ${PROJECT_SOURCE_DIR}/src/client/http_client.cc)
target_link_libraries(stox_client PUBLIC stox_common Threads::Threads PRIVATE Boost::headers)

# `stox order|cancel|orders|book|account` (linked into the stox binary by src/app).
add_library(stox_client_commands ${PROJECT_SOURCE_DIR}/src/app/client_commands.cc)
target_link_libraries(stox_client_commands PUBLIC stox_common PRIVATE stox_client stox_marketdata
                                                                     simdjson::simdjson)

stox_test(transport_test SOURCES transport_test.cc
          LIBS stox_transport stox_client stox_marketdata simdjson::simdjson)
stox_test(client_commands_test SOURCES ${PROJECT_SOURCE_DIR}/src/app/client_commands_test.cc
          LIBS stox_client_commands stox_transport)
stox_test(http_client_test SOURCES ${PROJECT_SOURCE_DIR}/src/client/http_client_test.cc
          LIBS stox_client)
