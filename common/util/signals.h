// Waiting for the signals that end or reload a server.
#pragma once

namespace warden {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts afterwards,
// so they are delivered only to WaitForSignal(). Call first thing in main().
void BlockTerminationSignals();

enum class Signal { kTerminate, kReload };

// Waits for SIGINT/SIGTERM (kTerminate) or SIGHUP (kReload).
// REQUIRES: BlockTerminationSignals() ran before any thread was started.
Signal WaitForSignal();

}  // namespace warden
