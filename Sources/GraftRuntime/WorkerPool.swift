// WorkerPool: splits work across Graft's worker threads (two on the reference machine).

import Dispatch

/// Runs `body(worker)` for each of `count` workers in parallel and waits for all of them.
///
/// Graft's own parallelism is this one fork-join; while its workers run BLAS calls, OpenBLAS
/// is told to use one thread, so the cores are never oversubscribed.
struct WorkerPool: Sendable {
    let count: Int

    func run(_ body: @Sendable (Int) -> Void) {
        if count == 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// The part of `0..<total` that `worker` handles.
    func share(of total: Int, worker: Int) -> Range<Int> {
        let begin = total * worker / count
        let end = total * (worker + 1) / count
        return begin..<end
    }
}

/// A pointer the workers share; the fork-join guarantees each writes its own part.
struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
