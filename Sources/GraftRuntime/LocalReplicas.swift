// LocalReplicas: one training step run as data-parallel replicas on the cores of one process.
//
// A step compiled for a shard of the batch with cross-replica statistics (the pipeline's
// `.crossReplica(replicas:)`) computes the whole batch's step once its replicas all-reduce
// through a group (Docs/Distributed.md). Here the replicas are executables on threads of this
// process joined by a `LocalGroup`: each core runs a whole replica on its own rows of the
// batch with one worker, so no kernel is split across cores and each core's activations stay
// in its own caches; the cores meet only at the step's all-reduces (BatchNorm statistics, the
// loss, the gradient buckets). On two cores this is faster than one executable whose every
// large kernel is forked across two workers (Docs/Performance.md, row 15).

import Foundation
import GraftIR
import GraftBackend

/// `replicas` copies of one compiled step, each on a thread of its own, joined by a `LocalGroup`.
///
/// ```swift
/// var pipeline = entry.pipeline
/// pipeline.dataParallelism = .crossReplica(replicas: 2)
/// var graph = try entry.trace(64, 0).graph              // one replica's shard of a batch of 128
/// try pipeline.run(&graph, until: .optimized)
/// let step = try LocalReplicas(graph, replicas: 2)
/// let shards = try LocalReplicas.split(inputs, into: 2, along: ["view1", "view2"])   // the batch's rows
/// let loss = try step.run(shards)[0][0]                  // replica 0's outputs: the whole batch's loss
/// ```
///
/// `TrainingStep(…, replicas: 2)` does all of this for any traced model.
public final class LocalReplicas: @unchecked Sendable {
    /// The replicas, rank by rank; their params and state stay identical.
    public let executables: [Executable]
    private let threads: [ReplicaThread]

    /// Compiles `graph` (one replica's step) once per replica, each with `threadsPerReplica`
    /// workers, and joins them in a `LocalGroup`.
    public init(_ graph: Graph, replicas: Int, threadsPerReplica: Int = 1, cache: KernelCache? = nil) throws {
        guard replicas >= 1 else { throw Diagnostic("a group of local replicas needs at least one replica, not \(replicas)") }
        let group = LocalGroup(size: replicas)
        executables = try (0..<replicas).map { rank in
            let executable = try Executable(graph, cache: cache, threads: threadsPerReplica)
            executable.communicator = group.communicator(rank: rank)
            return executable
        }
        threads = (1..<replicas).map { _ in ReplicaThread() }
    }

    deinit { for thread in threads { thread.stop() } }

    /// The replicas one process runs by default: one per thread when the batch splits evenly
    /// across them (`graft train` and `graft bench`), else 1.
    public static func perThread(batch: Int, threads: Int) -> Int {
        threads > 1 && batch % threads == 0 ? threads : 1
    }

    /// Runs every replica on its own inputs at once (replica 0 on the calling thread) and
    /// returns each replica's outputs. All inputs are checked before any replica starts, so a
    /// bad one is an error and never leaves a replica waiting in an all-reduce.
    public func run(_ shards: [[String: HostTensor]]) throws -> [[HostTensor]] {
        guard shards.count == executables.count else {
            throw Diagnostic("\(shards.count) sets of inputs were given to \(executables.count) replicas; give one per replica")
        }
        for (executable, inputs) in zip(executables, shards) { try executable.checkInputs(inputs) }
        let results = Results(executables.count)
        for (index, thread) in threads.enumerated() {
            let rank = index + 1, executable = executables[rank], inputs = shards[rank]
            thread.start { results.set(rank, Result { try executable.run(inputs) }) }
        }
        results.set(0, Result { try executables[0].run(shards[0]) })
        for thread in threads { thread.wait() }
        return try results.values.map { try $0!.get() }
    }

    /// `inputs` with each of `sharded` cut along axis 0 into `count` equal, consecutive parts
    /// (replica r gets rows r·n/count ..< (r+1)·n/count, as `Batches.shard` gives a rank); the
    /// other inputs (schedules, scalars) go whole to every replica.
    /// - Throws: a `Diagnostic` naming an input whose leading dimension does not split evenly.
    public static func split(_ inputs: [String: HostTensor], into count: Int, along sharded: Set<String>) throws -> [[String: HostTensor]] {
        var shards = [[String: HostTensor]](repeating: [:], count: count)
        for (name, value) in inputs {
            guard sharded.contains(name) else {
                for rank in 0..<count { shards[rank][name] = value }
                continue
            }
            guard let rows = value.shape.first, rows % count == 0 else {
                throw Diagnostic("input %\(name) is \(value.type), whose leading dimension does not split evenly across \(count) replicas; give a batch that is a multiple of \(count)")
            }
            var shape = value.shape
            shape[0] = rows / count
            let part = value.scalars.count / count
            for rank in 0..<count {
                shards[rank][name] = HostTensor(TensorType(value.type.dtype, shape), Array(value.scalars[(rank * part)..<((rank + 1) * part)]))
            }
        }
        return shards
    }
}

/// Each replica's result, written by its own thread.
private final class Results: @unchecked Sendable {
    private(set) var values: [Result<[HostTensor], Error>?]
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ result: Result<[HostTensor], Error>) { values[rank] = result }   // each rank its own slot
}

/// A thread that runs one piece of work at a time, handed to it by `start` and waited for by
/// `wait`, until `stop`.
private final class ReplicaThread: @unchecked Sendable {
    private let started = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
    private var work: (@Sendable () -> Void)?
    private var stopping = false

    init() {
        let thread = Thread { [self] in
            while true {
                started.wait()
                if stopping { return }
                work?()
                finished.signal()
            }
        }
        thread.stackSize = 8 << 20   // a replica's kernels keep accumulators on the stack
        thread.start()
    }

    func start(_ work: @escaping @Sendable () -> Void) {
        self.work = work
        started.signal()
    }

    func wait() { finished.wait() }

    func stop() {
        stopping = true
        started.signal()
    }
}
