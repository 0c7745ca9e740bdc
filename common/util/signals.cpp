#include "common/util/signals.h"

#include <pthread.h>
#include <signal.h>

namespace warden {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that vanishes mid-write must cost an error code, not the process.
  signal(SIGPIPE, SIG_IGN);
}

Signal WaitForSignal() {
  sigset_t set = HandledSignals();
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  return received == SIGHUP ? Signal::kReload : Signal::kTerminate;
}

}  // namespace warden
