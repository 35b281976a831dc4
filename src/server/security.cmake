# API keys, rate limiting, Prometheus metrics and the `stox serve`
# configuration: the server's start-up and request-admission pieces.
add_library(stox_server_security api_keys.cc rate_limiter.cc metrics.cc config.cc)
target_link_libraries(stox_server_security
  PUBLIC stox_common stox_core Threads::Threads
  PRIVATE OpenSSL::Crypto tomlplusplus::tomlplusplus CLI11::CLI11)

stox_test(api_keys_test SOURCES api_keys_test.cc LIBS stox_server_security)
stox_test(rate_limiter_test SOURCES rate_limiter_test.cc LIBS stox_server_security)
stox_test(metrics_test SOURCES metrics_test.cc LIBS stox_server_security)
stox_test(config_test SOURCES config_test.cc LIBS stox_server_security)
# config_test checks that docs/stox.example.toml parses.
target_compile_definitions(config_test PRIVATE STOX_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
