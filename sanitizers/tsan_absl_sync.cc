// ThreadSanitizer build only: makes Debian's (uninstrumented) Abseil
// synchronization visible to TSan.
//
// libabsl_synchronization.so is compiled without -fsanitize=thread, so TSan
// never sees absl::Mutex, absl::CondVar or absl::Notification take effect,
// and reports every access to data they guard (ours, and gRPC's, which
// locks absl::Mutex inside grpc_core::Mutex) as a race. Abseil's own TSan
// annotations are compiled in only when the library itself is built with
// TSan.
//
// Every executable of the Tsan build links this file (see
// sanitizers/CMakeLists.txt). Its definitions of the out-of-line lock
// functions take precedence over the library's (the executable comes first
// in symbol lookup, for calls from our code, gRPC and Abseil itself); each
// calls the library's own function, found with dlsym(RTLD_NEXT), and tells
// TSan what it did: a release on the mutex before letting go of it, an
// acquire after getting it. Conditions passed to Await / LockWhen are
// evaluated by Abseil on whichever thread holds the lock at the time, so
// they are wrapped to acquire first as well.
//
// This only adds happens-before edges that the real locks create, so it
// hides no race on data that is not consistently locked. Readers are treated
// like writers (a slight over-approximation among readers, who write
// nothing).
#if defined(ACH_SANITIZER_TSAN)

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define ACH_STR2(x) #x
#define ACH_STR(x) ACH_STR2(x)

// The library's definition of `absl::<inline namespace>::<rest>`, given the
// mangled name after the namespace prefix.
void* Next(const char* rest) {
  const char* ns = ACH_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const bool is_const = rest[0] == 'K';
  const std::string name = std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
                           std::to_string(std::strlen(ns)) + ns +
                           (is_const ? rest + 1 : rest);
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found: %s\n", name.c_str(),
                 dlerror());
    std::abort();
  }
  return fn;
}

template <typename Fn>
Fn NextFn(const char* rest) {
  return reinterpret_cast<Fn>(Next(rest));
}

// A condition that, wherever Abseil evaluates it, first acquires what the
// waiting thread released (everything it did before waiting) and the mutex
// it is evaluated under, and releases back once evaluated, which the waiter
// acquires before it returns (so the waiter's stack can be reused). Built
// with Condition's plain-function constructor, so Abseil reads it in its
// own (uninstrumented) code.
//
// Abseil evaluates a condition with the mutex held, but after our wrappers
// have already told TSan the mutex was released (Await releases before it
// calls the library, which first evaluates the condition on the waiting
// thread; Unlock releases before the library evaluates the waiters'
// conditions on the unlocking thread). So the evaluation also releases the
// mutex once done: the next thread to lock it really does come after the
// evaluation, and without this its writes to the data the condition read
// were reported as races with that read.
class AcquiringCondition {
 public:
  AcquiringCondition(const absl::Condition& inner, absl::Mutex* mu)
      : inner_(&inner), mu_(mu), wrapped_(&Eval, this) {
    __tsan_release(this);
  }
  ~AcquiringCondition() { __tsan_acquire(this); }
  const absl::Condition& get() const { return wrapped_; }

 private:
  static bool Eval(void* arg) {
    __tsan_acquire(arg);
    auto* self = static_cast<AcquiringCondition*>(arg);
    __tsan_acquire(self->mu_);
    const bool r = self->inner_->Eval();
    __tsan_release(self->mu_);
    __tsan_release(arg);
    return r;
  }
  const absl::Condition* inner_;
  absl::Mutex* mu_;
  const absl::Condition wrapped_;
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using Cond = const Condition&;

void Mutex::Lock() {
  static const auto real = NextFn<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  static const auto real = NextFn<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  static const auto real = NextFn<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool got = real(this);
  if (got) __tsan_acquire(this);
  return got;
}

bool Mutex::ReaderTryLock() {
  static const auto real = NextFn<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool got = real(this);
  if (got) __tsan_acquire(this);
  return got;
}

void Mutex::Unlock() {
  static const auto real = NextFn<void (*)(Mutex*)>("5Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = NextFn<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::LockWhen(Cond cond) {
  static const auto real =
      NextFn<void (*)(Mutex*, Cond)>("5Mutex8LockWhenERKNS0_9ConditionE");
  const AcquiringCondition wrapped(cond, this);
  real(this, wrapped.get());
  __tsan_acquire(this);
}

void Mutex::ReaderLockWhen(Cond cond) {
  static const auto real = NextFn<void (*)(Mutex*, Cond)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  const AcquiringCondition wrapped(cond, this);
  real(this, wrapped.get());
  __tsan_acquire(this);
}

bool Mutex::LockWhenWithTimeout(Cond cond, Duration timeout) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const AcquiringCondition wrapped(cond, this);
  const bool r = real(this, wrapped.get(), timeout);
  __tsan_acquire(this);  // Held either way.
  return r;
}

bool Mutex::LockWhenWithDeadline(Cond cond, Time deadline) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const AcquiringCondition wrapped(cond, this);
  const bool r = real(this, wrapped.get(), deadline);
  __tsan_acquire(this);
  return r;
}

bool Mutex::ReaderLockWhenWithTimeout(Cond cond, Duration timeout) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const AcquiringCondition wrapped(cond, this);
  const bool r = real(this, wrapped.get(), timeout);
  __tsan_acquire(this);
  return r;
}

bool Mutex::ReaderLockWhenWithDeadline(Cond cond, Time deadline) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const AcquiringCondition wrapped(cond, this);
  const bool r = real(this, wrapped.get(), deadline);
  __tsan_acquire(this);
  return r;
}

// Await releases the mutex while it waits and holds it again on return.
void Mutex::Await(Cond cond) {
  static const auto real =
      NextFn<void (*)(Mutex*, Cond)>("5Mutex5AwaitERKNS0_9ConditionE");
  const AcquiringCondition wrapped(cond, this);
  __tsan_release(this);
  real(this, wrapped.get());
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(Cond cond, Duration timeout) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const AcquiringCondition wrapped(cond, this);
  __tsan_release(this);
  const bool r = real(this, wrapped.get(), timeout);
  __tsan_acquire(this);
  return r;
}

bool Mutex::AwaitWithDeadline(Cond cond, Time deadline) {
  static const auto real = NextFn<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const AcquiringCondition wrapped(cond, this);
  __tsan_release(this);
  const bool r = real(this, wrapped.get(), deadline);
  __tsan_acquire(this);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real =
      NextFn<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = NextFn<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool r = real(this, mu, timeout);
  __tsan_acquire(mu);
  return r;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = NextFn<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool r = real(this, mu, deadline);
  __tsan_acquire(mu);
  return r;
}

void Notification::Notify() {
  static const auto real =
      NextFn<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real = NextFn<void (*)(const Notification*)>(
      "K12Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static const auto real = NextFn<bool (*)(const Notification*, Duration)>(
      "K12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool r = real(this, timeout);
  if (r) __tsan_acquire(const_cast<Notification*>(this));
  return r;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static const auto real = NextFn<bool (*)(const Notification*, Time)>(
      "K12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool r = real(this, deadline);
  if (r) __tsan_acquire(const_cast<Notification*>(this));
  return r;
}

ABSL_NAMESPACE_END
}  // namespace absl

#endif  // ACH_SANITIZER_TSAN
