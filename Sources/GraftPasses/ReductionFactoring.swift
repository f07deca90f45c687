// ReductionFactoring: takes the factors that are constant along a reduction's axes out of it.
//
// Reverse mode through BatchNorm gives each per-channel quantity's gradient its own reduction
// over the whole activation: Σ dy, Σ dy·x̂ = Σ dy·(x − μ)·r, Σ dy·γ·(x − μ), Σ −dy·γ·r and
// Σ −2c·(x − μ) for BatchNorm's y = γ·(x − μ)·r + β, five passes over dy and x. Up to
// per-channel factors (γ, r = 1/√(σ² + ε), c) they are only three sums. This pass rewrites
//
//     reduce_sum(a · broadcast(c) · b)  ->  reduce_sum(a · b) · c
//
// (and reduce_mean alike) for every factor c that is the same along the reduced axes, looking
// through products, negations (Σ −t = −Σ t) and doublings (add(t, t)); the factors that stay
// inside are multiplied in a fixed order (by value), so that the CSE after it computes each
// distinct sum once. The reduction's result is the same up to rounding (the factor now
// multiplies the sum rather than each term), which is why this is not one of
// AlgebraicSimplification's exact identities.

import GraftIR

/// Moves factors that are constant along a reduction's axes outside the reduction.
public struct ReductionFactoring: Pass, Sendable {
    public let name = "factor-reductions"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        var replacement: [ValueID: ValueID] = [:]
        for id in 0..<graph.nodes.count {
            if let factored = factor(&graph, id) { replacement[id] = factored }
        }
        guard !replacement.isEmpty else { return }
        graph.rebuild(keeping: graph.nodes.indices.map { replacement[$0] == nil }, replacing: replacement)
        graph.rebuild(keeping: graph.liveness)
    }

    /// The factored form of node `id` if it is a sum or mean with something to take out.
    private func factor(_ graph: inout Graph, _ id: ValueID) -> ValueID? {
        let node = graph[id]
        guard let axes = node.op.reducedAxes, node.op.kind == .reduceSum || node.op.kind == .reduceMean,
              node.type.dtype.isFloatingPoint else { return nil }
        var terms = Terms()
        collect(graph, node.operands[0], axes: Set(axes), into: &terms)
        guard !terms.inside.isEmpty, !terms.outside.isEmpty || terms.negated || terms.doublings > 0 else { return nil }
        let location = node.location
        let product = terms.inside.sorted().dropFirst().reduce(terms.inside.min()!) { graph.add(.mul, [$0, $1], at: location) }
        var result = graph.add(node.op, [product], at: location)
        for _ in 0..<terms.doublings { result = graph.add(.add, [result, result], at: location) }
        for factor in terms.outside {
            result = graph.add(.mul, [result, reduced(&graph, factor, axes: axes, to: node.type, at: location)], at: location)
        }
        return terms.negated ? graph.add(.neg, [result], at: location) : result
    }

    /// A product's factors: those that vary along the reduced axes (`inside`) and those that
    /// do not (`outside`: broadcasts and constants), and the negations and doublings on the way.
    private struct Terms {
        var inside: [ValueID] = [], outside: [ValueID] = []
        var negated = false
        var doublings = 0
    }

    private func collect(_ graph: Graph, _ value: ValueID, axes: Set<Int>, into terms: inout Terms) {
        let node = graph[value]
        switch node.op {
        case .mul:
            for operand in node.operands { collect(graph, operand, axes: axes, into: &terms) }
        case .neg:
            terms.negated.toggle()
            collect(graph, node.operands[0], axes: axes, into: &terms)
        case .add where node.operands[0] == node.operands[1]:
            terms.doublings += 1
            collect(graph, node.operands[0], axes: axes, into: &terms)
        case .constant:
            terms.outside.append(value)
        case .broadcast where isConstant(along: axes, graph[node.operands[0]].type, node.type):
            terms.outside.append(value)
        default:
            terms.inside.append(value)
        }
    }

    /// Whether broadcasting `source` to `target` repeats it along every one of `axes`.
    private func isConstant(along axes: Set<Int>, _ source: TensorType, _ target: TensorType) -> Bool {
        let offset = target.rank - source.rank
        return axes.allSatisfy { $0 < offset || source.shape[$0 - offset] == 1 }
    }

    /// `factor` (a constant, or a broadcast constant along `axes`) with the reduced axes
    /// dropped: a value of the reduction's result type.
    private func reduced(_ graph: inout Graph, _ factor: ValueID, axes: [Int], to type: TensorType, at location: SourceLocation?) -> ValueID {
        let node = graph[factor]
        if case .constant(let value) = node.op { return graph.splat(value, type, at: location) }
        let source = node.operands[0], sourceType = graph[source].type
        let offset = node.type.rank - sourceType.rank
        let kept = node.type.shape.indices.filter { !axes.contains($0) }.map { $0 < offset ? 1 : sourceType.shape[$0 - offset] }
        let reshaped = kept == sourceType.shape ? source : graph.add(.reshape, [source], type: TensorType(type.dtype, kept), at: location)
        return graph.broadcast(reshaped, to: type, at: location)
    }
}
