// ConstantFolding: evaluates at compile time what depends only on constants.
//
// A `constant` is a splat (every element equal), so folding stays within splats:
//   broadcast(constant c) -> constant c          (of the broadcast shape)
//   reshape(constant c)   -> constant c
//   unary(constant a)     -> constant f(a)       (neg, abs, exp, log, sqrt, rsqrt, tanh, relu)
//   binary(constant a, constant b) -> constant a ∘ b   (add, sub, mul, div, max, min, compare)
//   convert(constant c)   -> constant c          (rounded toward zero for i32, c ≠ 0 for bool)
// This turns the schedule-independent arithmetic of rewrites (1 − 0.9, 0.1 · 4/3, ...) into
// single constants and lets the algebraic rules see through broadcasts.

import GraftIR
import Foundation

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
                  let value = fold(node.op, constants, to: node.type.dtype) else { continue }
            graph[id] = Node(.constant(value), [], type: node.type, location: node.location)
            changed = true
        }
        if changed { graph.rebuild(keeping: graph.liveness) }
    }

    private func fold(_ op: Op, _ x: [Float], to dtype: DType) -> Float? {
        switch op {
        case .broadcast, .reshape, .stopGradient: return x[0]
        case .convert:
            switch dtype {
            case .f32: return x[0]
            case .i32: return x[0].isFinite ? x[0].rounded(.towardZero) : nil
            case .bool: return x[0] != 0 ? 1 : 0
            }
        case .neg: return -x[0]
        case .abs: return Swift.abs(x[0])
        case .exp: return Float(Foundation.exp(Double(x[0])))
        case .log: return Float(Foundation.log(Double(x[0])))
        case .sqrt: return x[0].squareRoot()
        case .rsqrt: return Float(1 / Double(x[0]).squareRoot())
        case .tanh: return Float(Foundation.tanh(Double(x[0])))
        case .relu: return x[0].isNaN ? x[0] : Swift.max(x[0], 0)
        case .add: return x[0] + x[1]
        case .sub: return x[0] - x[1]
        case .mul: return x[0] * x[1]
        case .div: return x[0] / x[1]
        case .max: return x[0].isNaN || x[1].isNaN ? .nan : Swift.max(x[0], x[1])
        case .min: return x[0].isNaN || x[1].isNaN ? .nan : Swift.min(x[0], x[1])
        case .compare(let direction):
            let result: Bool
            switch direction {
            case .eq: result = x[0] == x[1]
            case .ne: result = x[0] != x[1]
            case .lt: result = x[0] < x[1]
            case .le: result = x[0] <= x[1]
            case .gt: result = x[0] > x[1]
            case .ge: result = x[0] >= x[1]
            }
            return result ? 1 : 0
        case .select: return x[0] != 0 ? x[1] : x[2]
        default: return nil
        }
    }
}
