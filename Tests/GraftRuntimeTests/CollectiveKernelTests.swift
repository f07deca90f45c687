// CollectiveKernelTests: the compiled `all_reduce` (a call to the executable's communicator)
// in a group of one and in a `LocalGroup` of replicas on threads, against the interpreter's
// simulated group, through a step with cross-replica statistics and its gradients.

import Foundation
import Testing
import GraftIR
import GraftPasses
import GraftInterpreter
import GraftRuntime

/// Per-replica batch statistics all-reduced (cross-replica BatchNorm's mean), a loss
/// all-reduced to the group's mean, and the gradient of `@w` by autodiff.
private func replicatedStep() throws -> Graph {
    var graph = try Parser.parse("""
        graph @replicated(%x: f32[8,16]) -> (f32[]) {
          param @w : f32[16] {init = ones, role = weight}
          %0 = broadcast(@w) : f32[8,16]
          %1 = mul(%x, %0) : f32[8,16]
          %2 = reduce_mean(%1) {axes = [0]} : f32[16]
          %3 = all_reduce(%2) {reduction = mean} : f32[16]
          %4 = broadcast(%3) : f32[8,16]
          %5 = sub(%1, %4) : f32[8,16]
          %6 = mul(%5, %5) : f32[8,16]
          %7 = reduce_mean(%6) {axes = [0, 1]} : f32[]
          %8 = all_reduce(%7) {reduction = mean} : f32[]
          return %8 : f32[]
        }
        """)
    try Autodiff().run(&graph)
    return graph
}

@Suite struct CollectiveKernelTests {
    @Test func aSingleProcessAllReduceIsTheIdentity() throws {
        let graph = try replicatedStep()
        let (inputs, variables) = randomValues(for: graph, seed: 3)
        let executable = try Executable(graph, threads: 1)
        try executable.setVariables(variables)
        let compiled = try executable.run(inputs)
        let reference = try Interpreter().run(graph, inputs: inputs, variables: variables)
        for (got, want) in zip(compiled, reference.outputs) {
            let (ok, message) = agree(got, want, tolerance: 1e-5)
            #expect(ok, "\(message)")
        }
    }

    @Test(arguments: [2, 3])
    func replicasOnThreadsMatchTheSimulatedGroup(_ size: Int) throws {
        let graph = try replicatedStep()
        let replicas = (0..<size).map { randomValues(for: graph, seed: UInt64(10 + $0)) }
        let group = LocalGroup(size: size)
        let executables = try (0..<size).map { rank in
            let executable = try Executable(graph, threads: 1)
            executable.communicator = group.communicator(rank: rank)
            try executable.setVariables(replicas[rank].variables)
            return executable
        }
        // Every replica on a thread of its own: an all-reduce waits for all of them.
        let results = Results(size)
        let threads = (0..<size).map { rank in
            Thread {
                results.set(rank, Result { try executables[rank].run(replicas[rank].inputs) })
            }
        }
        threads.forEach { $0.start() }
        results.waitForAll()

        let reference = try Interpreter().runReplicas(graph, inputs: replicas.map(\.inputs), variables: replicas.map(\.variables))
        for rank in 0..<size {
            let compiled = try results.get(rank)
            for (index, (got, want)) in zip(compiled, reference[rank].outputs).enumerated() {
                let (ok, message) = agree(got, want, tolerance: 1e-5)
                #expect(ok, "replica \(rank), output \(index): \(message)")
            }
        }
        // The loss is the group's: the same on every replica.
        #expect(Set((0..<size).map { try! results.get($0)[0] }).count == 1)
    }
}

/// The replicas' results, filled by their threads.
private final class Results: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Result<[HostTensor], Error>?]
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ value: Result<[HostTensor], Error>) {
        condition.lock()
        values[rank] = value
        condition.broadcast()
        condition.unlock()
    }
    func waitForAll() {
        condition.lock()
        while values.contains(where: { $0 == nil }) { condition.wait() }
        condition.unlock()
    }
    func get(_ rank: Int) throws -> [HostTensor] { try values[rank]!.get() }
}
