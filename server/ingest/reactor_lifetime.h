// ReactorLifetime: the one mechanism that keeps an ingest reactor alive for as long as
// anything can still call into it. Every ingest reactor (Push, PushBatches, Export)
// derives from it.
//
// gRPC calls OnDone once it is done with a reactor, but callbacks handed to others may
// still reach it afterwards: a parked batch's resume callback (the scheduler), a batch's
// delivery callback (a worker, after the outputs), a grpc::Alarm (the batch delay, the
// idle timeout). A reactor that deleted itself in OnDone would be freed under their feet.
// So the reactor is reference counted: gRPC holds the first reference and releases it in
// OnDone; each callback holds a ReactorRef, taken when the callback is made and released
// when the callback object is destroyed, whether it ran or not. Whoever releases the last
// reference deletes the reactor, on its own thread.
//
// A reference is never the last one while the reactor's own lock is held: every reaction
// runs under gRPC's reference and every callback under its own, so a ReactorRef released
// inside a reaction or callback (a dropped batch's callbacks, say) only decrements.
//
// Thread safety: Ref and the ReactorRef operations may be called from any thread.
#ifndef SLUICE_SERVER_INGEST_REACTOR_LIFETIME_H_
#define SLUICE_SERVER_INGEST_REACTOR_LIFETIME_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

namespace sluice::ingest {

class ReactorLifetime;

// A counted reference to a reactor: copyable (grpc::Alarm takes a std::function) and
// movable; releases its reference when destroyed or reset.
class ReactorRef {
 public:
  ReactorRef() = default;
  ReactorRef(const ReactorRef& other) : ReactorRef(other.reactor_) {}
  ReactorRef(ReactorRef&& other) noexcept : reactor_(std::exchange(other.reactor_, nullptr)) {}
  ReactorRef& operator=(ReactorRef other) noexcept {
    std::swap(reactor_, other.reactor_);
    return *this;
  }
  ~ReactorRef() { reset(); }

  inline void reset();

 private:
  friend class ReactorLifetime;
  inline explicit ReactorRef(ReactorLifetime* reactor);

  ReactorLifetime* reactor_ = nullptr;
};

class ReactorLifetime {
 public:
  ReactorLifetime(const ReactorLifetime&) = delete;
  ReactorLifetime& operator=(const ReactorLifetime&) = delete;

 protected:
  ReactorLifetime() = default;
  virtual ~ReactorLifetime() = default;

  // A reference for a callback that can reach this reactor; capture it in the callback.
  ReactorRef Ref() { return ReactorRef(this); }
  // Releases gRPC's reference; the reactor's OnDone calls it last.
  void ReleaseGrpcRef() { Release(); }

  // A grpc::Alarm callback that runs `on_alarm(fired)` with a reference held until it has
  // returned. grpc::Alarm keeps its callback object as long as the alarm itself, which the
  // reactor owns, so a reference captured and kept the usual way would never be released.
  template <typename OnAlarm>
  std::function<void(bool)> AlarmCallback(OnAlarm on_alarm) {
    return [ref = Ref(), on_alarm = std::move(on_alarm)](bool fired) mutable {
      const ReactorRef keep = std::move(ref);
      on_alarm(fired);
    };
  }

 private:
  friend class ReactorRef;

  void Acquire() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Release() {
    // acq_rel: the deleting thread sees every write made before the other releases.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::atomic<uint32_t> refs_{1};
};

ReactorRef::ReactorRef(ReactorLifetime* reactor) : reactor_(reactor) {
  if (reactor_ != nullptr) reactor_->Acquire();
}

void ReactorRef::reset() {
  if (reactor_ != nullptr) std::exchange(reactor_, nullptr)->Release();
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_REACTOR_LIFETIME_H_
