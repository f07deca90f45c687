// GradientAllReduce: the backward half of data parallelism, as a rewrite.
//
// Reverse mode gives each replica the gradient of the group's objective (the sum of the
// replicas' losses) with respect to its own copy of the params. The gradient of the global
// batch's mean loss is the mean of those over the replicas, so this pass puts an
// `all_reduce {reduction = mean}` on every gradient output: the optimizer that follows then
// reads the same gradient on every replica, and params, optimizer state and the EMA target stay
// identical on all of them. Run it after `autodiff` and before the optimizer.
//
// The gradients travel in buckets: gradients in the order reverse mode computes them (the last
// layers first), flattened and concatenated up to `bucketFloats` values, are all-reduced as
// one buffer and sliced back, so a step makes a few collective calls instead of one per param
// (byol-t: 3 instead of 37), each paying the network's latency once. A bucket is complete
// while the backward pass of the earlier layers still runs: the fusion plan starts its
// all-reduce there and the runtime runs it in the background (FusionPlan+Collectives).

import GraftIR

/// Averages every gradient over the replicas before the optimizer reads it.
public struct GradientAllReduce: Pass, Sendable {
    public let name = "gradient-all-reduce"
    /// The most values one all-reduce carries (a gradient larger than that travels alone).
    public var bucketFloats: Int

    public init(bucketFloats: Int = 1 << 16) {
        precondition(bucketFloats >= 1, "GradientAllReduce: a bucket holds at least one value")
        self.bucketFloats = bucketFloats
    }

    public func run(_ graph: inout Graph) throws {
        let gradients = graph.gradients.map(\.output)
        guard !gradients.isEmpty else {
            throw Diagnostic("gradient-all-reduce: @\(graph.name) has no gradients; run autodiff first")
        }
        if gradients.contains(where: { graph.isAllReduced(graph.outputs[$0]) }) {
            throw Diagnostic("gradient-all-reduce: the gradients of @\(graph.name) are already all-reduced; the pass runs once")
        }
        var bucket: [Int] = [], filled = 0
        for output in gradients.sorted(by: { graph.outputs[$0] < graph.outputs[$1] }) {
            let size = graph[graph.outputs[output]].type.elementCount
            if !bucket.isEmpty && filled + size > bucketFloats {
                allReduce(bucket, in: &graph)
                (bucket, filled) = ([], 0)
            }
            bucket.append(output)
            filled += size
        }
        allReduce(bucket, in: &graph)
    }

    /// One `all_reduce {mean}` of the outputs `bucket`, flattened and joined, sliced back.
    private func allReduce(_ bucket: [Int], in graph: inout Graph) {
        let values = bucket.map { graph.outputs[$0] }
        let location = graph[values[0]].location
        guard values.count > 1 else {
            graph.outputs[bucket[0]] = graph.add(.allReduce(.mean), [values[0]], at: location)
            return
        }
        let flat = values.map { graph.add(.reshape, [$0], type: TensorType(.f32, [graph[$0].type.elementCount]), at: location) }
        let total = values.reduce(0) { $0 + graph[$1].type.elementCount }
        let joined = graph.add(.concat(axis: 0), flat, type: TensorType(.f32, [total]), at: location)
        let reduced = graph.add(.allReduce(.mean), [joined], at: location)
        var offset = 0
        for (output, value) in zip(bucket, values) {
            let type = graph[value].type
            let slice = graph.add(.slice(start: [offset], limit: [offset + type.elementCount]), [reduced], at: location)
            graph.outputs[output] = graph.add(.reshape, [slice], type: type, at: location)
            offset += type.elementCount
        }
    }
}

extension Graph {
    /// Whether `value` is an all-reduce's result, or a slice of one reshaped (a bucket's part).
    fileprivate func isAllReduced(_ value: ValueID) -> Bool {
        var value = value
        while [.reshape, .slice].contains(self[value].op.kind) { value = self[value].operands[0] }
        return self[value].op.kind == .allReduce
    }
}
