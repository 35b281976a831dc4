// Engine::prefetch is a hint: an engine that is told what comes next must
// emit exactly the events, and reach exactly the state, of one that is not,
// whatever it is told (the real upcoming commands, or garbage).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "core/engine.h"
#include "core/testing/random_stream.h"
#include "core/testing/report.h"

namespace stox {
namespace {

struct Recorded {
  std::vector<Command> commands;
  std::vector<std::vector<Event>> events;  // per command
  std::uint64_t hash = 0;
};

// A random stream run through a plain engine (which the stream observes).
Recorded record(std::uint64_t seed, const EngineConfig& config, testing::RandomStreamOptions options,
                std::size_t n) {
  Recorded r;
  testing::RandomStream stream(seed, options);
  Engine engine(config);
  std::vector<Event> out;
  for (std::size_t i = 0; i < n; ++i) {
    r.commands.push_back(stream.next());
    out.clear();
    engine.apply(r.commands.back(), out);
    stream.observe(out);
    r.events.push_back(out);
  }
  r.hash = engine.state_hash();
  EXPECT_EQ(engine.check_invariants(), "");
  return r;
}

// Replays r with engine.prefetch(hint(i)) before each apply(i).
template <class Hint>
void expect_same_with(const Recorded& r, const EngineConfig& config, Hint hint) {
  Engine engine(config);
  std::vector<Event> out;
  for (std::size_t i = 0; i < r.commands.size(); ++i) {
    engine.prefetch(hint(i));
    out.clear();
    engine.apply(r.commands[i], out);
    ASSERT_TRUE(testing::same_events(out, r.events[i])) << "command " << i;
  }
  EXPECT_EQ(engine.state_hash(), r.hash);
}

EngineConfig matching_config() {
  EngineConfig c;
  c.prefetch_min_open_orders = 0;  // these books are small: hint at any size
  return c;
}

EngineConfig accounts_config() {
  EngineConfig c;
  c.prefetch_min_open_orders = 0;  // these books are small: hint at any size
  c.accounts = true;
  return c;
}

TEST(EnginePrefetch, UpcomingCommandsChangeNothing) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    testing::RandomStreamOptions options;
    options.target_open_orders = seed % 2 ? 200 : 3000;  // small books and deep ones
    const Recorded r = record(seed, EngineConfig{}, options, 20000);
    const std::span<const Command> all(r.commands);
    expect_same_with(r, matching_config(), [&](std::size_t i) { return all.subspan(i); });
    // Short windows, as at the end of a replay batch.
    expect_same_with(r, matching_config(), [&](std::size_t i) {
      return all.subspan(i, std::min<std::size_t>(seed * 3, all.size() - i));
    });
  }
}

TEST(EnginePrefetch, UpcomingCommandsChangeNothingInAccountsMode) {
  for (std::uint64_t seed = 11; seed <= 14; ++seed) {
    testing::RandomStreamOptions options;
    options.accounts_mode = true;
    options.accounts = 20;
    const Recorded r = record(seed, accounts_config(), options, 20000);
    const std::span<const Command> all(r.commands);
    expect_same_with(r, accounts_config(), [&](std::size_t i) { return all.subspan(i); });
  }
}

// Hints that are wrong (other commands, random bytes: unknown ids,
// instruments, accounts, sides, prices) are as harmless as right ones.
TEST(EnginePrefetch, WrongAndGarbageHintsChangeNothing) {
  const Recorded r = record(21, EngineConfig{}, {}, 20000);
  std::mt19937_64 rng(21);
  std::vector<Command> garbage(64);
  for (Command& c : garbage) {
    std::vector<unsigned char> bytes(sizeof(Command));
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rng());
    std::memcpy(static_cast<void*>(&c), bytes.data(), sizeof c);
    c.type = static_cast<CommandType>(1 + rng() % 3);  // new order, cancel, replace
  }
  const std::span<const Command> all(r.commands);
  expect_same_with(r, matching_config(), [&](std::size_t i) {
    return i % 2 ? std::span<const Command>(garbage) : all.subspan((i * 7919) % all.size());
  });
}

}  // namespace
}  // namespace stox
