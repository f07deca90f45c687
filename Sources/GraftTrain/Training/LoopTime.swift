// LoopTime: where a training loop's wall-clock time went: the steps themselves, waiting for
// data, checkpoints, the per-epoch measures (the kNN monitor), and the rest (the log, the
// progress line, the plots).

import Foundation

/// Seconds a `TrainingLoop.run` spent on each of its parts, and its one-line summary.
struct LoopTime {
    /// The whole run, from its first step's batch to its plots.
    var wall = 0.0
    /// Running the compiled step (`TrainingStep.run`), over `stepCount` steps.
    var steps = 0.0
    var stepCount = 0
    /// Waiting for the next batch: preparing it, unless the stream prefetches.
    var dataWait = 0.0
    var checkpoints = 0.0
    /// The `epochEnd` measures (in `graft train`, the kNN monitor).
    var epochEnd = 0.0

    /// One line, each part as a share of the steps' own time: `time: 468 steps, 0.137 s each;
    /// the loop took 3.4% more: waiting for data 0.8%, checkpoints 0.0%, epoch-end measures
    /// 2.5%, log and plots 0.0% (66.4 s in all, 64.2 s of steps)` (`bench/loop.py` reads it).
    var summary: String {
        func share(_ seconds: Double) -> String { String(format: "%.1f%%", 100 * seconds / Swift.max(steps, 1e-9)) }
        let other = wall - steps - dataWait - checkpoints - epochEnd
        return String(format: "time: %d steps, %.3f s each; the loop took %@ more: waiting for data %@, checkpoints %@, epoch-end measures %@, log and plots %@ (%.1f s in all, %.1f s of steps)",
                      stepCount, steps / Double(Swift.max(stepCount, 1)), share(wall - steps), share(dataWait), share(checkpoints),
                      share(epochEnd), share(other), wall, steps)
    }
}
