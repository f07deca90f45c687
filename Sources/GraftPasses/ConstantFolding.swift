// ConstantFolding: evaluates at compile time what depends only on constants.
//
// A `constant` is a splat (every element equal), so folding stays within splats:
//   broadcast(constant c) -> constant c          (of the broadcast shape)
//   reshape(constant c)   -> constant c
//   f(constant a, ...)    -> constant f(a, ...)  (every elementwise op, by its scalar meaning:
//                                                 the same evaluation as the interpreter's)
// This turns the schedule-independent arithmetic of rewrites (1 − 0.9, 0.1 · 4/3, ...) into
// single constants and lets the algebraic rules see through broadcasts.

import GraftIR

/// Folds ops whose operands are all constants.
public struct ConstantFolding: Pass, Sendable {
    public let name = "constant-fold"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        var changed = false
        for id in graph.nodes.indices {
            let node = graph[id]
            let constants = node.operands.compactMap { operand -> Float? in
                if case .constant(let value) = graph[operand].op { return value }
                return nil
            }
            guard !node.operands.isEmpty, constants.count == node.operands.count,
                  let value = fold(node, constants, graph) else { continue }
            graph[id] = Node(.constant(value), [], type: node.type, location: node.location)
            changed = true
        }
        if changed { graph.rebuild(keeping: graph.liveness) }
    }

    /// Layout ops whose result is a splat when their operand is one.
    static let splatPreserving: Set<OpKind> = [.broadcast, .reshape]

    /// The value of `node` when its operands are the splats `x`, or nil if it is not foldable.
    private func fold(_ node: Node, _ x: [Float], _ graph: Graph) -> Float? {
        if ConstantFolding.splatPreserving.contains(node.op.kind) { return x[0] }
        let types = ElementTypes(operands: node.operands.map { graph[$0].type.dtype }, result: node.type.dtype)
        return node.op.scalarMeaning(types)?.evaluate(x.map { [Double($0)] }, count: 1, precision: .float32).first.map(Float.init)
    }
}
