// FusionPlan+Collectives: the kernels of a data-parallel step ordered so that its all-reduces
// start as early as their inputs allow.
//
// Reverse mode computes the gradients of the last layers first. A gradient bucket's
// `all_reduce` (GradientAllReduce) is placed, with the kernel that joins the bucket, right after
// the last kernel that computes one of its gradients, instead of where the graph's order put
// it (after the whole backward pass); the optimizer that reads it stays where it is. The
// runtime then runs such an all-reduce in the background (`Communicator.startAllReduce`) while
// the backward pass of the earlier layers goes on, and waits for it only before its first
// reader.

import GraftIR

extension FusionPlan {
    /// `kernels` with each `all_reduce` kernel, and the kernel making its operand when nothing
    /// else reads that (a bucket's concat, a batch statistic), moved to just after the kernels
    /// they read. Moving a kernel earlier, but after everything it reads, keeps the order valid.
    static func startingCollectivesEarly(_ kernels: [FusedKernel], in graph: Graph) -> [FusedKernel] {
        var order = kernels
        let collectives = kernels.filter { graph[$0.root].op.kind == .allReduce }.map(\.root)
        for root in collectives {
            let position = order.firstIndex { $0.root == root }!
            var group = [position]
            let operand = graph[root].operands[0]
            if let producer = order.firstIndex(where: { $0.outputs.contains(operand) }),
               order.allSatisfy({ $0.root == root || !$0.inputs.contains(operand) }) {
                group = [producer, position]
            }
            let reads = Set(group.flatMap { order[$0].inputs }).subtracting(group.flatMap { order[$0].outputs })
            let earliest = (order.lastIndex { !reads.isDisjoint(with: $0.outputs) } ?? -1) + 1
            guard group != Array(earliest..<(earliest + group.count)) else { continue }   // already in place
            let moved = group.map { order[$0] }
            for index in group.reversed() { order.remove(at: index) }
            order.insert(contentsOf: moved, at: earliest)
        }
        return order
    }
}
