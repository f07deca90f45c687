// CrossReplicaStatistics: the forward half of data parallelism, as a rewrite.
//
// In a data-parallel step every replica runs the same graph on its own shard of the global
// batch (every data input split along axis 0). A mean or sum over the batch axis is then a
// statistic of the shard, not of the batch: BatchNorm's mean and variance, and the loss. This
// pass makes each of them the statistic of the whole batch: every `reduce_mean` or
// `reduce_sum` whose axes include 0, of a value computed from the data, is followed by an
// `all_reduce` of the same kind (the shards are equal, so the mean of the replicas' means is
// the batch mean). BatchNorm's variance, computed from the centred values, becomes the batch
// variance too; its running statistics and the loss are then the same on every replica, and
// reverse mode differentiates through the collectives. Run it after `make-target` (the target
// network's BatchNorm is cross-replica as well) and before `autodiff`.
//
// The one constant that depends on the batch size, the factor n/(n − 1) that makes BatchNorm's
// running variance unbiased (multiplied into the batch variance as the DSL writes it), is
// rewritten to that of the global count, N·n/(N·n − 1), so the running statistics are those of
// one process on the whole batch too.
//
// Values that mix examples other than by such reductions (a `reduce_max` over the batch, a
// matrix product of two data values such as a similarity matrix between examples) would need
// other collectives: the pass refuses them with the op's location.

import GraftIR

/// Makes the batch statistics of a forward graph those of the global batch across replicas.
public struct CrossReplicaStatistics: Pass, Sendable {
    public let name = "cross-replica-statistics"
    /// The number of replicas the global batch is split across.
    public var replicas: Int

    public init(replicas: Int) {
        precondition(replicas >= 1, "CrossReplicaStatistics: a group has at least one replica, not \(replicas)")
        self.replicas = replicas
    }

    public func run(_ graph: inout Graph) throws {
        if let existing = graph.nodes.first(where: { $0.op.kind == .allReduce }) {
            throw Diagnostic("cross-replica-statistics: the graph already has an all_reduce; the pass runs once, on the forward graph", at: existing.location)
        }
        if !graph.gradients.isEmpty {
            throw Diagnostic("cross-replica-statistics: @\(graph.name) already has gradients; run it before autodiff, so that reverse mode differentiates through the collectives")
        }
        let count = graph.nodes.count
        var fromData = [Bool](repeating: false, count: count)
        var batch: Int?
        for (id, node) in graph.nodes.enumerated() {
            if case .input(let name) = node.op, node.type.rank > 0 {
                guard batch == nil || node.type.shape[0] == batch else {
                    throw Diagnostic("cross-replica-statistics: every data input is split along axis 0 across replicas, but %\(name) is \(node.type) where an earlier input has \(batch!) rows", at: node.location)
                }
                batch = node.type.shape[0]
                fromData[id] = true
            } else {
                fromData[id] = node.operands.contains { fromData[$0] }
            }
        }
        var users = [[ValueID]](repeating: [], count: count)
        for id in 0..<count { for operand in Set(graph[id].operands) { users[operand].append(id) } }
        var replacement: [ValueID: ValueID] = [:]
        for id in 0..<count where fromData[id] {
            let node = graph[id]
            switch node.op {
            case .reduceMean(let axes) where axes.contains(0):
                replacement[id] = graph.add(.allReduce(.mean), [id], at: node.location)
                let local = graph[node.operands[0]].type.elementCount / Swift.max(node.type.elementCount, 1)
                for user in users[id] { globalBesselFactor(graph: &graph, product: user, statistic: id, count: local) }
            case .reduceSum(let axes) where axes.contains(0):
                replacement[id] = graph.add(.allReduce(.sum), [id], at: node.location)
            case .reduceMax(let axes) where axes.contains(0):
                throw Diagnostic("cross-replica-statistics: reduce_max over the batch axis mixes the replicas' examples and has no all-reduce here; reduce over other axes, or train in one process", at: node.location)
            case .matmul where node.operands.allSatisfy({ fromData[$0] }):
                throw Diagnostic("cross-replica-statistics: a matrix product of two values computed from the data may mix the replicas' examples (as a similarity matrix between examples does), which needs an all-gather, not built; train this model in one process", at: node.location)
            default:
                continue
            }
        }
        // Every use of a statistic reads its all-reduced value; the all-reduce itself reads the
        // shard's statistic.
        var uses: [ValueID: ValueID] = [:]
        for (statistic, reduced) in replacement { uses[statistic] = reduced }
        for id in graph.nodes.indices where graph[id].op.kind != .allReduce {
            graph.nodes[id].operands = graph.nodes[id].operands.map { uses[$0] ?? $0 }
        }
        graph.outputs = graph.outputs.map { uses[$0] ?? $0 }
        graph.assigns = graph.assigns.map { Assign(name: $0.name, value: uses[$0.value] ?? $0.value, location: $0.location) }
        graph.rebuild(keeping: graph.liveness)
    }

    /// If `product` multiplies `statistic` (a batch mean over `count` elements per result) by
    /// BatchNorm's n/(n − 1) for n = `count`, gives it the factor of the global count instead.
    private func globalBesselFactor(graph: inout Graph, product: ValueID, statistic: ValueID, count: Int) {
        let node = graph[product]
        guard node.op == .mul, let side = node.operands.firstIndex(of: statistic) else { return }
        let other = node.operands[1 - side]
        var constant = other
        if graph[constant].op == .broadcast { constant = graph[constant].operands[0] }
        guard case .constant(let value) = graph[constant].op else { return }
        let n = Float(count)
        guard value == n / Swift.max(n - 1, 1) else { return }
        let global = Float(count * replicas)
        let scalar = graph.add(.constant(global / Swift.max(global - 1, 1)), [], type: TensorType(.f32, []), at: graph[constant].location)
        graph.nodes[product].operands[1 - side] = graph.broadcast(scalar, to: graph[other].type, at: graph[other].location)
    }
}
