// TerminationNotice: what a training run says when a signal ends it (mpirun ending the job
// after another rank died, `kill`, a closed terminal): where its last checkpoint is and how
// to resume.

import Foundation

/// The two buffers the notice alternates between, and which one is current (-1: none).
/// A signal handler may only call async-signal-safe functions (`write`, `signal`, `raise`),
/// so the text is formatted beforehand, into the buffer the handler is not reading, and then
/// made current by one aligned store.
private let noticeCapacity = 4096
nonisolated(unsafe) private let noticeBuffers = (UnsafeMutablePointer<UInt8>.allocate(capacity: noticeCapacity),
                                                 UnsafeMutablePointer<UInt8>.allocate(capacity: noticeCapacity))
nonisolated(unsafe) private var noticeLengths = (0, 0)
nonisolated(unsafe) private var currentNotice: Int = -1

/// Prints a prepared message when SIGTERM or SIGHUP ends the process, then lets the signal
/// end it as it would have (same exit status).
///
/// Under `mpirun`, a rank that dies makes Open MPI end the others with SIGTERM, and one that
/// waits inside a collective for the dead rank can do nothing else. The checkpoint is intact
/// either way (it is written to a temporary file and renamed), and this notice says which
/// step it holds and how to resume from it.
enum TerminationNotice {
    static let signals = [SIGTERM, SIGHUP]

    /// Makes `text` the message printed if a signal ends the process.
    static func set(_ text: String) {
        let bytes = Array(text.utf8.prefix(noticeCapacity))
        let next = currentNotice == 0 ? 1 : 0
        let buffer = next == 0 ? noticeBuffers.0 : noticeBuffers.1
        bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        if next == 0 { noticeLengths.0 = bytes.count } else { noticeLengths.1 = bytes.count }
        currentNotice = next
    }

    /// Installs the handlers (after a first `set`).
    static func install() {
        for number in signals {
            signal(number) { number in
                let current = currentNotice
                if current >= 0 {
                    let (buffer, length) = current == 0 ? (noticeBuffers.0, noticeLengths.0) : (noticeBuffers.1, noticeLengths.1)
                    _ = write(2, buffer, length)
                }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    /// Restores the default handling and forgets the message.
    static func remove() {
        for number in signals { signal(number, SIG_DFL) }
        currentNotice = -1
    }

    /// The message of a run at `step` of `totalSteps` whose last checkpoint holds
    /// `checkpointStep` (nil: none written yet, next at `nextCheckpoint`).
    static func text(step: Int, totalSteps: Int, checkpointPath: String, checkpointStep: Int?, nextCheckpoint: Int, ranks: Int) -> String {
        let cause = ranks > 1 ? " (under mpirun this usually means another rank ended: mpirun's message names it)" : ""
        guard let checkpointStep else {
            return "\ngraft train: stopped by a signal at step \(step) of \(totalSteps)\(cause). No checkpoint was written yet (the first is due at step \(nextCheckpoint)); nothing to resume, start the run again.\n"
        }
        let launcher = ranks > 1 ? "mpirun -np N graft" : "graft"
        return "\ngraft train: stopped by a signal at step \(step) of \(totalSteps)\(cause). The last checkpoint, \(checkpointPath), is intact and holds step \(checkpointStep); continue with `\(launcher) train --resume \(checkpointPath)`\(ranks > 1 ? " (any number of ranks)" : "").\n"
    }
}
