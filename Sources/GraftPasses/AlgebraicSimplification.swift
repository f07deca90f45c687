// AlgebraicSimplification: local identities that remove work without changing results.
//
// Each rule is a pattern and its rewrite; they run over the graph in SSA order, so a value's
// operands are already simplified when it is visited. Rules that could change a NaN or an
// infinity (x·0 -> 0) are deliberately absent: they would hide a diverging run.

import GraftIR

/// Rewrites algebraic identities (`mul(x, 1) -> x`, `transpose(transpose(x)) -> x`, ...).
public struct AlgebraicSimplification: Pass, Sendable {
    public let name = "simplify"
    public init() {}

    /// A rule: the value that replaces node `id`, or nil when the pattern does not match.
    typealias Rule = @Sendable (_ graph: inout Graph, _ id: ValueID) -> ValueID?

    static func constantValue(_ graph: Graph, _ id: ValueID) -> Float? {
        if case .constant(let value) = graph[id].op { return value }
        return nil
    }

    static let rules: [Rule] = [
        { g, id in g[id].op == .mul && constantValue(g, g[id].operands[1]) == 1 ? g[id].operands[0] : nil },  // mul(x, 1) -> x
        { g, id in g[id].op == .mul && constantValue(g, g[id].operands[0]) == 1 ? g[id].operands[1] : nil },  // mul(1, x) -> x
        { g, id in g[id].op == .add && constantValue(g, g[id].operands[1]) == 0 ? g[id].operands[0] : nil },  // add(x, 0) -> x
        { g, id in g[id].op == .add && constantValue(g, g[id].operands[0]) == 0 ? g[id].operands[1] : nil },  // add(0, x) -> x
        { g, id in g[id].op == .sub && constantValue(g, g[id].operands[1]) == 0 ? g[id].operands[0] : nil },  // sub(x, 0) -> x
        { g, id in g[id].op == .div && constantValue(g, g[id].operands[1]) == 1 ? g[id].operands[0] : nil },  // div(x, 1) -> x
        { g, id in                                                                                           // neg(neg(x)) -> x
            guard g[id].op == .neg, g[g[id].operands[0]].op == .neg else { return nil }
            return g[g[id].operands[0]].operands[0]
        },
        { g, id in                                                                                           // add(x, neg(y)) -> sub(x, y)
            guard g[id].op == .add, g[g[id].operands[1]].op == .neg else { return nil }
            return g.add(.sub, [g[id].operands[0], g[g[id].operands[1]].operands[0]], at: g[id].location)
        },
        { g, id in                                                                                           // sub(x, neg(y)) -> add(x, y)
            guard g[id].op == .sub, g[g[id].operands[1]].op == .neg else { return nil }
            return g.add(.add, [g[id].operands[0], g[g[id].operands[1]].operands[0]], at: g[id].location)
        },
        { g, id in                                                                                           // reshape(x) : type(x) -> x
            [.reshape, .broadcast, .convert].contains(g[id].op) && g[g[id].operands[0]].type == g[id].type ? g[id].operands[0] : nil
        },
        { g, id in                                                                                           // reshape(reshape(x)) -> reshape(x)
            guard g[id].op == .reshape, g[g[id].operands[0]].op == .reshape else { return nil }
            return g.add(.reshape, [g[g[id].operands[0]].operands[0]], type: g[id].type, at: g[id].location)
        },
        { g, id in                                                                                           // transpose(x) {identity} -> x
            guard case .transpose(let permutation) = g[id].op, permutation == Array(permutation.indices) else { return nil }
            return g[id].operands[0]
        },
        { g, id in                                                                                           // transpose(transpose(x)) -> transpose(x) {composed}
            guard case .transpose(let outer) = g[id].op, case .transpose(let inner) = g[g[id].operands[0]].op else { return nil }
            return g.add(.transpose(permutation: outer.map { inner[$0] }), [g[g[id].operands[0]].operands[0]], at: g[id].location)
        },
        { g, id in                                                                                           // stop_gradient(stop_gradient(x)) -> stop_gradient(x)
            g[id].op == .stopGradient && g[g[id].operands[0]].op == .stopGradient ? g[id].operands[0] : nil
        },
        { g, id in                                                                                           // select(p, x, x) -> x
            g[id].op == .select && g[id].operands[1] == g[id].operands[2] ? g[id].operands[1] : nil
        },
    ]

    public func run(_ graph: inout Graph) throws {
        var replacement: [ValueID: ValueID] = [:]
        let originalCount = graph.nodes.count
        for id in 0..<originalCount {
            // Read operands through earlier replacements.
            graph[id].operands = graph[id].operands.map { replacement[$0] ?? $0 }
            var current = id
            var applied = true
            while applied {
                applied = false
                for rule in Self.rules {
                    if let next = rule(&graph, current), next != current {
                        current = next
                        applied = true
                        break
                    }
                }
            }
            if current != id { replacement[id] = current }
        }
        guard !replacement.isEmpty else { return }
        var keep = [Bool](repeating: true, count: graph.nodes.count)
        for id in replacement.keys { keep[id] = false }
        graph.rebuild(keeping: keep, replacing: replacement)
        graph.rebuild(keeping: graph.liveness)
    }
}
