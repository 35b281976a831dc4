// Journal benchmark on the real disk (POSIX Env).
//
//   journal_benchmark [dir] [seconds-per-row]
//
// 1. raw fdatasync: append one 120-byte record and fdatasync, repeatedly:
//    the floor under every durable commit on this disk.
// 2. group commit, fixed batch sizes: append N commands, commit() (one
//    write + one fdatasync); durable appends/s and commit latency.
// 3. group commit by load: a producer thread offers commands at a paced
//    rate into a queue; the journal thread takes everything queued since its
//    last commit as the next batch (what the server will do).
// 4. replay: read and verify the whole journal written above, records/s.
//
// dir defaults to a fresh directory under /tmp (remove it afterwards).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/reader.h"
#include "journal/writer.h"

namespace sj = stox::journal;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Latencies {
  std::vector<double> us;
  double pct(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(us.size() - 1));
    return us[i];
  }
};

void die(const stox::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  std::exit(1);
}

stox::Command command(stox::SeqNo seq) {
  stox::NewOrder o{};
  o.account = static_cast<stox::AccountId>(seq % 1000 + 1);
  o.instrument = 1;
  o.price = static_cast<stox::Price>(1000000 + seq % 100);
  o.quantity = 100;
  o.side = seq % 2 ? stox::Side::kBuy : stox::Side::kSell;
  o.type = stox::OrderType::kLimit;
  o.time_in_force = stox::TimeInForce::kGtc;
  return stox::Command::make(seq, static_cast<stox::Timestamp>(seq), o);
}

void print_row(const char* name, double batch, double appends_per_s, double syncs_per_s, Latencies& l) {
  std::printf("%-22s %9.1f %14.0f %10.0f %10.1f %10.1f %10.1f\n", name, batch, appends_per_s,
              syncs_per_s, l.pct(50), l.pct(99), l.pct(99.9));
}

void raw_fdatasync(const std::string& dir, double secs) {
  std::unique_ptr<sj::WritableFile> f;
  die(sj::posix_env()->new_writable_file(dir + "/raw-sync", &f), "create");
  std::string rec(120, 'x');
  Latencies l;
  auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    auto t = Clock::now();
    die(f->append(rec), "write");
    die(f->sync(), "fdatasync");
    l.us.push_back(seconds_since(t) * 1e6);
  }
  auto n = static_cast<double>(l.us.size());
  print_row("raw write+fdatasync", 1, n / seconds_since(t0), n / seconds_since(t0), l);
  die(f->close(), "close");
}

// Appends batches of `batch` commands for `secs`; returns commands written.
void fixed_batches(sj::JournalWriter& w, std::size_t batch, double secs) {
  Latencies l;
  std::uint64_t cmds = 0;
  std::uint64_t syncs0 = w.syncs();
  auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    for (std::size_t i = 0; i < batch; ++i) die(w.append(command(w.next_seq())), "append");
    auto t = Clock::now();
    die(w.commit().status(), "commit");
    l.us.push_back(seconds_since(t) * 1e6);
    cmds += batch;
  }
  double el = seconds_since(t0);
  char name[32];
  std::snprintf(name, sizeof name, "group commit, %zu", batch);
  print_row(name, static_cast<double>(batch), static_cast<double>(cmds) / el,
            static_cast<double>(w.syncs() - syncs0) / el, l);
}

// Load-formed batches: a producer thread offers `rate` commands/s (paced,
// like clients would); the journal thread takes everything queued since its
// last commit as one batch. Latency is from a command being queued to its
// batch being durable: what a client waits for, minus the network.
void batches_by_load(sj::JournalWriter& w, double secs, double rate) {
  std::mutex mu;
  std::vector<Clock::time_point> queue;  // enqueue times; seqs are implicit
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    auto t0 = Clock::now();
    std::uint64_t offered = 0;
    while (!stop.load()) {
      auto due = static_cast<std::uint64_t>(seconds_since(t0) * rate);
      if (due > offered) {
        auto now = Clock::now();
        std::lock_guard lock(mu);
        queue.insert(queue.end(), due - offered, now);
        offered = due;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  });
  Latencies l;
  std::uint64_t cmds = 0;
  std::uint64_t syncs0 = w.syncs();
  std::vector<Clock::time_point> batch;
  auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    {
      std::lock_guard lock(mu);
      batch.swap(queue);
    }
    if (batch.empty()) {
      std::this_thread::sleep_for(std::chrono::microseconds(10));
      continue;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) die(w.append(command(w.next_seq())), "append");
    die(w.commit().status(), "commit");
    auto done = Clock::now();
    for (auto t : batch) l.us.push_back(std::chrono::duration<double>(done - t).count() * 1e6);
    cmds += batch.size();
    batch.clear();
  }
  double el = seconds_since(t0);
  stop = true;
  producer.join();
  auto syncs = static_cast<double>(w.syncs() - syncs0);
  char name[40];
  std::snprintf(name, sizeof name, "offered %.0f/s", rate);
  print_row(name, static_cast<double>(cmds) / syncs, static_cast<double>(cmds) / el, syncs / el, l);
}

void replay(const std::string& dir) {
  for (int round = 0; round < 2; ++round) {  // the first round may read from disk, the second from cache
    auto t0 = Clock::now();
    auto r = sj::JournalReader::open(sj::posix_env(), dir);
    die(r.status(), "open reader");
    stox::Command c;
    std::uint64_t n = 0;
    for (;;) {
      auto more = (*r)->next(&c);
      die(more.status(), "read");
      if (!*more) break;
      ++n;
    }
    double el = seconds_since(t0);
    std::printf("replay+verify (%s): %llu records in %.3f s = %.0f records/s, %.0f MB/s\n",
                round == 0 ? "first " : "cached", static_cast<unsigned long long>(n), el,
                static_cast<double>(n) / el,
                static_cast<double>(n) * sj::kCommandRecordSize / el / 1e6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1]
                             : "/tmp/stox-journal-bench-" + std::to_string(::getpid());
  double secs = argc > 2 ? std::atof(argv[2]) : 2.0;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  std::printf("journal benchmark in %s, %.1f s per row, 120-byte command records\n\n", dir.c_str(), secs);
  std::printf("%-22s %9s %14s %10s %10s %10s %10s\n", "mode", "batch", "appends/s", "syncs/s",
              "p50 us", "p99 us", "p99.9 us");
  raw_fdatasync(dir, secs);
  std::string jdir = dir + "/journal";
  {
    auto w = sj::JournalWriter::open(sj::posix_env(), jdir);
    die(w.status(), "open writer");
    for (std::size_t b : {1, 8, 64, 512, 4096}) fixed_batches(**w, b, secs);
    std::printf("-- batches formed by load: latency from enqueue to durable --\n");
    for (double rate : {100.0, 1000.0, 10000.0, 100000.0, 500000.0}) batches_by_load(**w, secs, rate);
    die((*w)->close(), "close");
  }
  {
    sj::WriterOptions none;
    none.sync = sj::SyncMode::kNone;
    auto w = sj::JournalWriter::open(sj::posix_env(), jdir, none);
    die(w.status(), "open writer");
    std::printf("-- sync mode none (UNSAFE, no fdatasync) --\n");
    for (std::size_t b : {1, 64}) fixed_batches(**w, b, secs);
    die((*w)->close(), "close");
  }
  std::printf("\n");
  replay(jdir);
  std::filesystem::remove_all(dir);
  return 0;
}
