// Data parallelism in one process: a BatchNorm network trained by 2 replicas on halves of each
// batch (replicas on threads, a LocalGroup between them) against one process on whole
// batches. With cross-replica statistics the two are the same computation; with per-replica
// statistics they are measurably not.

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

/// The same 5 steps on 2 replicas of batch 4 (replica r takes examples 4r..<4r+4 of each batch).
private func twoReplicas(_ parallelism: DataParallelism) throws -> [(losses: [Float], variables: [String: HostTensor])] {
    let group = LocalGroup(size: 2)
    let steps = try (0..<2).map { rank in
        let replica = try step(try network(batch: 4), parallelism)
        replica.executable.communicator = group.communicator(rank: rank)
        return replica
    }
    let data = batches(5, batch: 8)
    final class Steps: @unchecked Sendable { let steps: [TrainingStep]; init(_ steps: [TrainingStep]) { self.steps = steps } }
    let shared = Steps(steps)
    return try onThreads(2) { rank in
        let replica = shared.steps[rank]
        let losses = try data.map { batch in
            try replica.run(["images": HostTensor(TensorType(.f32, [4, 1, 6, 6]), Array(batch.images[(rank * 144)..<((rank + 1) * 144)])),
                             "labels": HostTensor(TensorType(.i32, [4]), Array(batch.labels[(rank * 4)..<((rank + 1) * 4)]))])[0].scalars[0]
        }
        return (losses, replica.variables)
    }
}

@Suite struct DataParallelTests {
    @Test func twoReplicasWithCrossReplicaStatisticsAreOneProcess() throws {
        let (losses, variables) = try singleProcess()
        let replicas = try twoReplicas(.crossReplica(replicas: 2))
        for replica in replicas {
            for (got, want) in zip(replica.losses, losses) {
                #expect(abs(got - want) <= 1e-5 * abs(want), "loss \(got) on a replica, \(want) in one process")
            }
            for (name, value) in variables {
                let got = try #require(replica.variables[name])
                for (a, b) in zip(got.scalars, value.scalars) {
                    #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "\(name): \(a) on a replica, \(b) in one process")
                }
            }
        }
        // The replicas stay identical, bit for bit.
        #expect(replicas[0].variables == replicas[1].variables)
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
