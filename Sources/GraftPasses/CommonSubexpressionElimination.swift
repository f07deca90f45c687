// CommonSubexpressionElimination: computes each distinct (op, operands, type) once.
//
// The DSL and the rewrites freely emit the same constant, broadcast or reduction more than
// once (every `x * 0.5` makes its own constant; autodiff re-broadcasts the same scale for each
// param). Values are visited in SSA order, so operands are already canonical when a node is
// looked up. Declarations are never merged: two params of one type are different weights.

import GraftIR

/// Replaces each node by the first identical node before it.
public struct CommonSubexpressionElimination: Pass, Sendable {
    public let name = "cse"
    public init() {}

    private struct Key: Hashable {
        var op: Op
        var operands: [ValueID]
        var type: TensorType
        /// A constant's bits: `Op` compares floats with `==`, which holds for 0 and -0.
        var constantBits: UInt32?
    }

    public func run(_ graph: inout Graph) throws {
        var canonical = [ValueID](graph.nodes.indices)
        var seen: [Key: ValueID] = [:]
        var replacement: [ValueID: ValueID] = [:]
        for (id, node) in graph.nodes.enumerated() {
            let operands = node.operands.map { canonical[$0] }
            guard node.op.declaredName == nil else { continue }
            var constantBits: UInt32?
            if case .constant(let value) = node.op { constantBits = value.bitPattern }
            let key = Key(op: node.op, operands: operands, type: node.type, constantBits: constantBits)
            if let first = seen[key] {
                canonical[id] = first
                replacement[id] = first
            } else {
                seen[key] = id
            }
        }
        guard !replacement.isEmpty else { return }
        graph.rebuild(keeping: graph.nodes.indices.map { replacement[$0] == nil }, replacing: replacement)
    }
}
