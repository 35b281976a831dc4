#include "server/core.h"

#include <pthread.h>

#include <iostream>

#include <utility>

#include "journal/reader.h"
#include "store/layout.h"
#include "server/ws_hub.h"

namespace stox::server {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

EngineConfig server_engine_config() {
  EngineConfig config;
  config.accounts = true;
  config.expected_orders = 1 << 20;
  return config;
}

Result<std::unique_ptr<Core>> Core::open(journal::Env& env, const CoreOptions& options,
                                         WsHub& hub, CoreObserver* observer) {
  store::Clock clock = [&env] { return env.now_nanos(); };
  auto durable = store::DurableEngine::open(env, options.data_dir, options.engine, clock,
                                            options.durable);
  if (!durable.ok()) return durable.status();
  std::unique_ptr<Core> core(
      new Core(env, options, hub, observer, std::move(durable.value())));
  if (Status s = core->rebuild_projections(); !s.ok()) return s;
  return core;
}

Core::Core(journal::Env& env, const CoreOptions& options, WsHub& hub, CoreObserver* observer,
           std::unique_ptr<store::DurableEngine> durable)
    : env_(env),
      options_(options),
      hub_(hub),
      observer_(observer != nullptr ? observer : &no_observer_),
      durable_(std::move(durable)),
      md_(options.projections),
      queue_(options.queue_capacity) {
  committed_seq_.store(durable_->committed_seq());
}

Core::~Core() { stop(); }

// The projections are built from events alone, and a snapshot holds the
// engine, not them: so they are rebuilt by replaying the whole journal
// through a scratch engine. Its state hash must equal the recovered engine's
// (a cheap end-to-end check of recovery itself).
//
// The scratch engine then becomes the snapshot follower's engine: it is at
// exactly the committed state.
Status Core::rebuild_projections() {
  auto reader = journal::JournalReader::open(&env_, store::journal_dir(options_.data_dir));
  if (!reader.ok()) return reader.status();
  auto engine = std::make_unique<Engine>(options_.engine);
  Engine& scratch = *engine;
  std::vector<Event> events;
  Command c;
  for (;;) {
    Result<bool> more = reader.value()->next(&c);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    events.clear();
    scratch.apply(c, events);
    md_.apply_batch(events);
    ++rebuilt_commands_;
  }
  for (const marketdata::InstrumentInfo& info : md_.instruments.all()) symbols_.add(info);
  if (scratch.state_hash() != durable_->engine().state_hash()) {
    return Status::Corruption(
        "projections: replaying the journal from its start does not reach the recovered state "
        "(was the journal pruned, or does a snapshot disagree with it?)");
  }
  CoreObserver* observer = observer_;
  follower_ = std::make_unique<store::SnapshotFollower>(
      env_, options_.data_dir, std::move(engine), durable_->committed_seq(), options_.snapshots,
      [observer](SeqNo, std::int64_t write_ns, bool ok) { observer->on_snapshot(write_ns, ok); });
  return Status::OK();
}

void Core::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "stox-engine");
    run();
  });
}

void Core::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
  if (follower_) follower_->stop();
}

bool Core::post(Work&& work) {
  work.enqueued_ns = steady_now_ns();
  return queue_.try_push(std::move(work));
}

std::string Core::failure_reason() const {
  std::lock_guard lock(failure_mutex_);
  return failure_reason_;
}

void Core::record_failure() {
  if (failed_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(failure_mutex_);
    failure_reason_ = durable_->failure_reason();
  }
  failed_.store(true, std::memory_order_release);
  // The operator's log (stderr): once, with the reason /health also gives.
  std::cerr << "stox: FATAL for writing: " << failure_reason_
            << "; the exchange refuses every command until it is restarted\n";
}

void Core::run() {
  std::vector<Work> batch;
  while (queue_.drain(&batch, std::chrono::milliseconds(50))) {
    if (!batch.empty()) process(batch);
    hub_.service(md_);
  }
}

void Core::process(std::vector<Work>& batch) {
  // 1. Sequence, journal (queued) and apply every command.
  seqs_.assign(batch.size(), 0);
  sequenced_.clear();
  std::size_t commands = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].command) continue;
    Result<SeqNo> seq = durable_->submit(*batch[i].command);
    if (seq.ok()) {
      seqs_[i] = seq.value();
      ++commands;
      Command& c = sequenced_.emplace_back(*batch[i].command);
      c.seq = seq.value();
      c.timestamp = durable_->last_timestamp();  // what submit() gave it
    }
  }
  // 2. One group commit.
  released_.clear();
  Status failure;
  if (commands > 0) {
    const std::int64_t t0 = steady_now_ns();
    Result<SeqNo> committed = durable_->commit(&released_);
    observer_->on_batch(commands, steady_now_ns() - t0);
    if (committed.ok()) {
      committed_seq_.store(committed.value(), std::memory_order_release);
      follower_->push(sequenced_);
    } else {
      failure = committed.status();
    }
  }
  if (durable_->failed()) {
    record_failure();
    if (failure.ok()) failure = durable_->failure();
  }
  // 3. Project, answer and publish, in queue order.
  std::size_t next_event = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Work& w = batch[i];
    if (!w.command) hub_.flush(md_);  // a read (a subscribe) must not see older updates after it
    CoreContext ctx{durable_->engine(), md_, hub_, {}, seqs_[i], nullptr};
    if (w.command && (seqs_[i] == 0 || !failure.ok())) {
      ctx.failure = failure.ok() ? &durable_->failure() : &failure;
    } else if (w.command) {
      const std::size_t first = next_event;
      while (next_event < released_.size() && released_[next_event].seq == seqs_[i]) ++next_event;
      ctx.events = std::span<const Event>(released_).subspan(first, next_event - first);
      md_.apply_batch(ctx.events);
      for (const Event& e : ctx.events) {
        if (e.type == EventType::kInstrumentAdded) {
          symbols_.add(*md_.instruments.find(e.instrument_added.instrument));
        }
      }
      observer_->on_command(*w.command, ctx.events);
    }
    if (w.done) w.done(ctx);
    if (w.command) observer_->on_acked(steady_now_ns() - w.enqueued_ns);
    if (!ctx.events.empty()) hub_.publish(md_);
  }
  hub_.flush(md_);
}

}  // namespace stox::server
