// Data parallelism: a BatchNorm network trained by 2 replicas on halves of each batch against
// one process on whole batches, with the replicas on threads of this process (a LocalGroup)
// and, under `mpirun -np 2`, as the ranks of an MPI job (`make test` runs that too). With
// cross-replica statistics the two are the same computation; with per-replica statistics
// they are measurably not.

import Testing
import Foundation
import Graft

/// conv → BatchNorm → ReLU → global average → Linear → BatchNorm → cross-entropy.
private func network(batch: Int) throws -> TracedGraph {
    try trace("bn_net", seed: 9) { g in
        let images = g.input("images", shape: [batch, 1, 6, 6])
        let labels = g.input("labels", TensorType(.i32, [batch]))
        let conv = Conv2D(g.scope("conv"), inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1)
        let bn = BatchNorm(g.scope("bn"), features: 4)
        let features = GlobalAveragePool()(relu(bn(conv(images))))
        let head = BatchNorm(g.scope("head_bn"), features: 3)
        let logits = head(Linear(g.scope("fc"), inputSize: 4, outputSize: 3)(features))
        return [crossEntropy(logits: logits, labels: labels)]
    }
}

/// Seeded images and labels for `steps` steps of `batch` examples.
private func batches(_ steps: Int, batch: Int) -> [(images: [Float], labels: [Float])] {
    var generator = SplitMix64(seed: 31)
    return (0..<steps).map { _ in
        (images: (0..<(batch * 36)).map { _ in Float(generator.nextUnit()) },
         labels: (0..<batch).map { _ in Float(generator.next() % 3) })
    }
}

private func step(_ model: TracedGraph, _ parallelism: DataParallelism) throws -> TrainingStep {
    try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9), dataParallelism: parallelism),
                     learningRate: LearningRateSchedule(base: 0.5, warmupSteps: 0, totalSteps: 10), threads: 1)
}

/// Each replica's result, written by its own thread.
private final class ReplicaResults<T>: @unchecked Sendable {
    var results: [Result<T, Error>?]
    let done = DispatchGroup()
    init(_ count: Int) { results = Array(repeating: nil, count: count) }
}

/// Runs `body(rank)` for every rank on a thread of its own and waits for all of them.
private func onThreads<T>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let box = ReplicaResults<T>(count)
    for rank in 0..<count {
        box.done.enter()
        Thread {
            box.results[rank] = Result { try body(rank) }   // each thread writes its own slot
            box.done.leave()
        }.start()
    }
    box.done.wait()
    return try box.results.map { try $0!.get() }
}

/// The losses of 5 steps on one process with batch 8, and the params after them.
private func singleProcess() throws -> (losses: [Float], variables: [String: HostTensor]) {
    let single = try step(try network(batch: 8), .none)
    let losses = try batches(5, batch: 8).map { batch in
        try single.run(["images": HostTensor(TensorType(.f32, [8, 1, 6, 6]), batch.images),
                        "labels": HostTensor(TensorType(.i32, [8]), batch.labels)])[0].scalars[0]
    }
    return (losses, single.variables)
}

/// Replica `rank`'s 5 steps on its shard of each batch (examples 4r..<4r+4), with `replica`'s
/// communicator.
private func train(_ replica: TrainingStep, rank: Int) throws -> (losses: [Float], variables: [String: HostTensor]) {
    let losses = try batches(5, batch: 8).map { batch in
        try replica.run(["images": HostTensor(TensorType(.f32, [4, 1, 6, 6]), Array(batch.images[(rank * 144)..<((rank + 1) * 144)])),
                         "labels": HostTensor(TensorType(.i32, [4]), Array(batch.labels[(rank * 4)..<((rank + 1) * 4)]))])[0].scalars[0]
    }
    return (losses, replica.variables)
}

/// Checks replica results against one process's: losses within 1e-5, variables within 1e-4.
private func expectSameStep(_ replica: (losses: [Float], variables: [String: HostTensor]),
                            as single: (losses: [Float], variables: [String: HostTensor])) throws {
    for (got, want) in zip(replica.losses, single.losses) {
        #expect(abs(got - want) <= 1e-5 * abs(want), "loss \(got) on a replica, \(want) in one process")
    }
    for (name, value) in single.variables {
        let got = try #require(replica.variables[name])
        for (a, b) in zip(got.scalars, value.scalars) {
            #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "\(name): \(a) on a replica, \(b) in one process")
        }
    }
}

/// The same 5 steps on 2 replicas of batch 4 (replica r takes examples 4r..<4r+4 of each batch).
private func twoReplicas(_ parallelism: DataParallelism) throws -> [(losses: [Float], variables: [String: HostTensor])] {
    let group = LocalGroup(size: 2)
    let steps = try (0..<2).map { rank in
        let replica = try step(try network(batch: 4), parallelism)
        replica.executable.communicator = group.communicator(rank: rank)
        return replica
    }
    final class Steps: @unchecked Sendable { let steps: [TrainingStep]; init(_ steps: [TrainingStep]) { self.steps = steps } }
    let shared = Steps(steps)
    return try onThreads(2) { rank in try train(shared.steps[rank], rank: rank) }
}

@Suite struct DataParallelTests {
    @Test func twoReplicasWithCrossReplicaStatisticsAreOneProcess() throws {
        let single = try singleProcess()
        let replicas = try twoReplicas(.crossReplica(replicas: 2))
        for replica in replicas { try expectSameStep(replica, as: single) }
        // The replicas stay identical, bit for bit.
        #expect(replicas[0].variables == replicas[1].variables)
    }

    /// Under `mpirun -np 2` (`make test` runs this suite so): the two ranks are the replicas.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil, "runs under mpirun -np 2"))
    func twoMPIRanksAreOneProcess() throws {
        let communicator = try #require(try MPICommunicator.fromEnvironment())
        try #require(communicator.size == 2, "run with mpirun -np 2, not \(communicator.size)")
        let replica = try step(try network(batch: 4), .crossReplica(replicas: 2))
        replica.executable.communicator = communicator
        try expectSameStep(try train(replica, rank: communicator.rank), as: try singleProcess())
        print("rank \(communicator.rank) of \(communicator.size): 5 steps on 4 images each match one process on 8")
    }

    @Test func perReplicaStatisticsAreMeasurablyAnotherStep() throws {
        let (losses, _) = try singleProcess()
        let replicas = try twoReplicas(.perReplica)
        // Each replica's loss is its own shard's, normalised by its own statistics.
        let averaged = zip(replicas[0].losses, replicas[1].losses).map { ($0 + $1) / 2 }
        let largest = zip(averaged, losses).map { abs($0 - $1) / abs($1) }.max()!
        #expect(largest > 1e-3, "per-replica statistics differ from one process by only \(largest)")
        print("per-replica statistics, 2 × 4 against 1 × 8: the mean loss differs by up to \(largest) (relative) over 5 steps")
        // The gradients are still averaged, so the params stay the same on both replicas.
        #expect(replicas[0].variables.filter { !$0.key.contains("running") } == replicas[1].variables.filter { !$0.key.contains("running") })
    }
}
