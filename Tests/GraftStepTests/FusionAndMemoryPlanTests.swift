// Fusion and memory planning on the real byol-t step: structure and invariants.

import Testing
import GraftIR
import GraftPasses
import GraftModels

@Suite struct FusionAndMemoryPlanTests {
    func step() throws -> Graph {
        try #require(ModelCatalog.model(named: "byol-t")).compile(batchSize: 8, stage: .optimized)
    }

    @Test func everyValueIsComputedByExactlyOneKernelAfterItsInputs() throws {
        let graph = try step()
        let plan = FusionPlan(graph)
        var producedBy = [Int?](repeating: nil, count: graph.nodes.count)
        for (index, kernel) in plan.kernels.enumerated() {
            #expect(kernel.body.last.map(kernel.outputs.contains) == true)
            #expect(kernel.outputs.allSatisfy { plan.materialized[$0] })
            #expect(kernel.siblings.isEmpty || kernel.kind == .reduction)
            for value in kernel.body where plan.materialized[value] {
                #expect(kernel.outputs.contains(value), "a kernel computes a materialized value it does not own")
            }
            for input in kernel.inputs {
                #expect(plan.materialized[input])
                if graph[input].op.declaredName == nil { #expect(producedBy[input] != nil, "kernel #\(index) reads a value not yet written") }
            }
            for output in kernel.outputs where producedBy[output] == nil { producedBy[output] = index }
        }
        // Outputs and assigned values all have a kernel or are declarations.
        for value in graph.outputs + graph.assigns.map(\.value) where graph[value].op.declaredName == nil {
            #expect(producedBy[value] != nil)
        }
        // Contractions read only materialized values and compute nothing else.
        for kernel in plan.kernels where kernel.kind == .contraction { #expect(kernel.body == [kernel.root]) }
    }

    /// In the 2-replica step, every `all_reduce` (and a bucket's concat with it) starts right
    /// after the last kernel it reads (only other collectives, started as early, in between),
    /// and the order stays valid: the first gradient bucket travels while the backward pass
    /// still has convolution gradients to compute.
    @Test func allReducesStartRightAfterWhatTheyRead() throws {
        var entry = try #require(ModelCatalog.model(named: "byol-t"))
        entry.pipeline.dataParallelism = .crossReplica(replicas: 2)
        let graph = try entry.compile(batchSize: 8, stage: .optimized)
        let plan = FusionPlan(graph)
        let position = Dictionary(uniqueKeysWithValues: plan.kernels.enumerated().flatMap { kernel in kernel.element.outputs.map { ($0, kernel.offset) } })
        let collectiveOperands = Set(plan.kernels.filter { graph[$0.root].op.kind == .allReduce }.map { graph[$0.root].operands[0] })
        /// An all_reduce, or the kernel making its operand.
        func startsACollective(_ kernel: FusedKernel) -> Bool {
            graph[kernel.root].op.kind == .allReduce || kernel.outputs.contains(where: collectiveOperands.contains)
        }
        var buckets: [Int] = []
        for (index, kernel) in plan.kernels.enumerated() where graph[kernel.root].op.kind == .allReduce {
            let operand = graph[kernel.root].operands[0]
            let group = graph[operand].op.kind == .concat ? [position[operand]!, index] : [index]
            if group.count == 2 { buckets.append(index) }
            #expect(group == Array(group[0]...index), "a bucket's concat runs just before its all_reduce")
            let reads = group.flatMap { plan.kernels[$0].inputs }.compactMap { position[$0] }.filter { !group.contains($0) }
            #expect(reads.allSatisfy { $0 < group[0] }, "kernel #\(index) runs before something it reads")
            // Between what it reads and its start run only other collectives started as early.
            let between = (reads.max() ?? -1) + 1 ..< group[0]
            #expect(between.allSatisfy { startsACollective(plan.kernels[$0]) }, "all_reduce #\(index) does not start right after what it reads: other kernels run between, \(between.filter { !startsACollective(plan.kernels[$0]) }.prefix(3).map { graph[plan.kernels[$0].root].op.name })")
        }
        #expect(buckets.count == 3, "byol-t's gradients make \(buckets.count) buckets of 64K floats, not 3")
        let lastFilterGradient = try #require(plan.kernels.lastIndex { graph[$0.root].op.kind == .conv2dFilterGrad })
        #expect(buckets[0] < lastFilterGradient, "the first bucket waits for the whole backward pass")
    }

    @Test func broadcastsOfMaterializedValuesAreNeverMaterialized() throws {
        let graph = try step()
        let plan = FusionPlan(graph)
        let materializedBroadcasts = graph.nodes.indices.filter {
            plan.materialized[$0] && graph[$0].op == .broadcast && !graph.outputs.contains($0)
                && plan.materialized[graph[$0].operands[0]]
        }
        #expect(materializedBroadcasts.isEmpty)
        // BatchNorm's normalisation is one loop: the subtraction of the mean is fused in.
        #expect(plan.kernels.count < graph.nodes.count / 2)
    }

    @Test func liveBuffersNeverOverlap() throws {
        let graph = try step()
        let plan = FusionPlan(graph)
        let memory = MemoryPlan(plan)
        // Live range of each arena value in kernel positions.
        var first = [Int](repeating: Int.max, count: graph.nodes.count), last = [Int](repeating: -1, count: graph.nodes.count)
        for id in graph.inputs { first[id] = -1; last[id] = plan.kernels.count }
        for (position, kernel) in plan.kernels.enumerated() {
            for output in kernel.outputs {
                first[output] = Swift.min(first[output], position)
                last[output] = Swift.max(last[output], position)
            }
            for input in kernel.inputs { last[input] = Swift.max(last[input], position) }
        }
        for value in graph.outputs + graph.assigns.map(\.value) { last[value] = plan.kernels.count }
        let arena = graph.nodes.indices.filter { memory.offsets[$0] != nil }
        #expect(arena.allSatisfy { memory.offsets[$0]! + memory.sizes[$0] <= memory.peakBytes })
        for a in arena {
            for b in arena where a < b {
                let overlapInTime = first[a] <= last[b] && first[b] <= last[a]
                let (oa, ob) = (memory.offsets[a]!, memory.offsets[b]!)
                let overlapInMemory = oa < ob + memory.sizes[b] && ob < oa + memory.sizes[a]
                #expect(!(overlapInTime && overlapInMemory), "values \(a) and \(b) share memory while both live")
            }
        }
        #expect(memory.peakBytes < memory.totalBytes / 2, "reuse should at least halve the arena")
        // Params and state are not in the arena.
        #expect((graph.params + graph.states).allSatisfy { memory.offsets[$0] == nil })
    }
}
