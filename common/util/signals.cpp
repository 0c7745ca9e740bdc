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
  // A shell starts background jobs with SIGINT ignored, and an ignored signal is discarded rather
  // than left pending for sigwait(); restore the default so Ctrl-C and `kill -INT` still stop us.
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
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
