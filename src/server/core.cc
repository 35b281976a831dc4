#include "server/core.h"

#include <pthread.h>

#include <iostream>

#include <utility>

#include "marketdata/projections_codec.h"
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

namespace {

// The follower's copy of the projections: fed the events of its engine,
// encoded into every snapshot it writes (the snapshot file's extension).
class ProjectionsCompanion final : public store::FollowerCompanion {
 public:
  explicit ProjectionsCompanion(marketdata::Projections md) : md_(std::move(md)) {}
  void apply(const Command& /*command*/, std::span<const Event> events) override {
    md_.apply_batch(events);
  }
  void encode(std::string* out) const override { marketdata::encode_projections(md_, out); }

 private:
  marketdata::Projections md_;
};

}  // namespace

std::unique_ptr<store::FollowerCompanion> make_projections_companion(
    const marketdata::ProjectionsConfig& config) {
  return std::make_unique<ProjectionsCompanion>(marketdata::Projections(config));
}

// Recovery restores the projections with the engine: from the extension of
// the newest snapshot that has one (snapshots without one are skipped), then
// every replayed command's events, exactly as the engine thread feeds them.
Result<std::unique_ptr<Core>> Core::open(journal::Env& env, const CoreOptions& options,
                                         WsHub& hub, CoreObserver* observer) {
  store::Clock clock = [&env] { return env.now_nanos(); };
  marketdata::Projections md(options.projections);
  store::DurableOptions durable_options = options.durable;
  store::RecoverOptions& recovery = durable_options.recovery;
  recovery.require_extension = true;
  recovery.restore_extension = [&](std::string_view bytes) {
    return marketdata::decode_projections(bytes, options.projections, &md);
  };
  recovery.on_replayed = [&md](const Command& /*command*/, std::span<const Event> events) {
    md.apply_batch(events);
  };
  auto durable =
      store::DurableEngine::open(env, options.data_dir, options.engine, clock, durable_options);
  if (!durable.ok()) return durable.status();
  std::unique_ptr<Core> core(
      new Core(env, options, hub, observer, std::move(durable.value()), std::move(md)));
  core->start_follower();
  return core;
}

Core::Core(journal::Env& env, const CoreOptions& options, WsHub& hub, CoreObserver* observer,
           std::unique_ptr<store::DurableEngine> durable, marketdata::Projections md)
    : env_(env),
      options_(options),
      hub_(hub),
      observer_(observer != nullptr ? observer : &no_observer_),
      durable_(std::move(durable)),
      md_(std::move(md)),
      queue_(options.queue_capacity) {
  committed_seq_.store(durable_->committed_seq());
  for (const marketdata::InstrumentInfo& info : md_.instruments.all()) symbols_.add(info);
}

Core::~Core() { stop(); }

// The follower starts from copies of the recovered engine and projections:
// exactly the committed state.
void Core::start_follower() {
  CoreObserver* observer = observer_;
  follower_ = std::make_unique<store::SnapshotFollower>(
      env_, options_.data_dir, durable_->engine().clone(), durable_->committed_seq(),
      options_.snapshots,
      [observer](SeqNo, std::int64_t write_ns, bool ok) { observer->on_snapshot(write_ns, ok); },
      std::make_unique<ProjectionsCompanion>(md_));
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
