// Autodiff: reverse-mode differentiation as a graph-to-graph pass.
//
// The loss (output 0, a scalar) is differentiated with respect to every trainable param;
// other outputs (monitors such as BYOL's collapse measure) are left as they are.
// Cotangents flow backward through the VJP rule of each op (VJPRules.swift); they stop at
// `stop_gradient`, and only nodes on a path from a param to the loss get a rule applied.
// The gradients are appended to the outputs, in param declaration order, and each param's
// declaration records its output (`gradient = N`), so the optimizer rewrite that follows, in
// process or from the IR text, knows which gradient is which.

import GraftIR

/// Appends the backward pass of output 0 with respect to every param.
public struct Autodiff: Pass, Sendable {
    public let name = "autodiff"

    public init() {}

    public func run(_ graph: inout Graph) throws {
        if let (param, output) = graph.gradients.first {
            throw Diagnostic("autodiff: the graph already has gradient outputs (output \(output) is the gradient of @\(param)); autodiff runs once")
        }
        guard let loss = graph.outputs.first, graph[loss].type == .scalar(.f32) else {
            throw Diagnostic("autodiff: output 0 must be an f32[] loss, got \(graph.outputs.first.map { graph[$0].type.description } ?? "no outputs")")
        }
        let forwardCount = graph.nodes.count

        // Which values depend on a param through differentiable ops.
        var active = [Bool](repeating: false, count: forwardCount)
        for (id, node) in graph.nodes.enumerated() {
            if case .param = node.op { active[id] = true; continue }
            guard !VJPRules.stops(node.op.kind) else { continue }
            active[id] = node.operands.contains { active[$0] }
        }

        var cotangents: [ValueID: ValueID] = [loss: graph.add(.constant(1), [], type: .scalar(), at: graph[loss].location)]
        for id in stride(from: forwardCount - 1, through: 0, by: -1) {
            guard active[id], let g = cotangents[id] else { continue }
            let node = graph[id]
            if node.op.isLeaf { continue }
            guard let rule = VJPRules.rule(for: node.op) else {
                throw Diagnostic("autodiff: no derivative rule for '\(node.op.name)', which lies on a gradient path; wrap its operand in stop_gradient or add a rule to VJPRules", at: node.location)
            }
            var vjp = VJPContext(graph: graph, node: node, value: id, cotangent: g, needs: node.operands.map { active[$0] })
            graph = Graph(name: "", nodes: [])   // hand the graph to the rule without a copy
            let results = rule(&vjp)
            graph = vjp.graph
            for (operand, cotangent) in zip(node.operands, results) {
                guard active[operand], let cotangent else { continue }
                if let existing = cotangents[operand] {
                    cotangents[operand] = graph.add(.add, [existing, cotangent], at: node.location)
                } else {
                    cotangents[operand] = cotangent
                }
            }
        }

        for id in graph.params {
            guard case .param(let name) = graph[id].op else { continue }
            let gradient = cotangents[id] ?? graph.splat(0, graph[id].type, at: graph[id].location)
            graph.outputs.append(gradient)
            graph.variables[name]?.gradient = graph.outputs.count - 1
        }
        graph.rebuild(keeping: graph.liveness)
    }
}
