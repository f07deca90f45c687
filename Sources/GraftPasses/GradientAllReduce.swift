// GradientAllReduce: the backward half of data parallelism, as a rewrite.
//
// Reverse mode gives each replica the gradient of the group's objective (the sum of the
// replicas' losses) with respect to its own copy of the params. The gradient of the global
// batch's mean loss is the mean of those over the replicas, so this pass puts an
// `all_reduce {reduction = mean}` on every gradient output: the optimizer that follows then
// reads the same gradient on every replica, and params, optimizer state and the EMA target stay
// identical on all of them. Run it after `autodiff` and before the optimizer.

import GraftIR

/// Averages every gradient over the replicas before the optimizer reads it.
public struct GradientAllReduce: Pass, Sendable {
    public let name = "gradient-all-reduce"

    public init() {}

    public func run(_ graph: inout Graph) throws {
        let gradients = graph.gradients
        guard !gradients.isEmpty else {
            throw Diagnostic("gradient-all-reduce: @\(graph.name) has no gradients; run autodiff first")
        }
        for (_, output) in gradients {
            let gradient = graph.outputs[output]
            if graph[gradient].op == .allReduce(.mean) {
                throw Diagnostic("gradient-all-reduce: the gradients of @\(graph.name) are already all-reduced; the pass runs once")
            }
            graph.outputs[output] = graph.add(.allReduce(.mean), [gradient], at: graph[gradient].location)
        }
    }
}
