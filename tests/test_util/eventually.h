// Eventually: the one way the C++ tests wait for something that happens on another thread
// or in another process (a counter reaching a value, a file getting its content, a child
// becoming ready).
//
// Used by the unit and e2e tests instead of hand-written polling loops. The deadline is a
// bound, never a timing expectation: it is generous so that a busy 2-core machine does not
// fail a correct test, and finite so that a broken server fails the test instead of
// hanging it. Where the code under test offers a condition variable or an
// absl::Notification, wait on that instead; this helper is for state that can only be
// polled.
//
// Header-only, so that every test target can use it without linking anything.
#ifndef SLUICE_TESTS_TEST_UTIL_EVENTUALLY_H_
#define SLUICE_TESTS_TEST_UTIL_EVENTUALLY_H_

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sluice::test_util {

// The bound most tests want: long enough for a loaded machine, short enough to fail.
inline constexpr absl::Duration kEventuallyTimeout = absl::Seconds(30);

// Calls `condition` until it returns true (then returns true) or `timeout` has passed (then
// returns false, after one last call). The pause between calls starts at 1 ms and doubles
// up to 20 ms, so a quick condition costs little and a slow one does not spin.
template <typename Condition>
bool Eventually(Condition&& condition, absl::Duration timeout = kEventuallyTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (!condition()) {
    const absl::Time now = absl::Now();
    if (now >= deadline) return static_cast<bool>(condition());
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  return true;
}

}  // namespace sluice::test_util

#endif  // SLUICE_TESTS_TEST_UTIL_EVENTUALLY_H_
