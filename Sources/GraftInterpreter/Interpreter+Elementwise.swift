// Interpreter+Elementwise: unary, binary and ternary ops applied element by element to
// operands of one shape (broadcasting is the explicit `broadcast` op).

import Foundation
import GraftIR

extension Interpreter {
    /// A unary elementwise op, including `convert` (whose target dtype is `type`'s).
    func unary(_ op: Op, _ x: HostTensor, _ type: TensorType) -> HostTensor {
        let function: (Float) -> Float
        switch op {
        case .neg: function = { -$0 }
        case .abs: function = { Swift.abs($0) }
        case .exp: function = { Float(Foundation.exp(Double($0))) }
        case .log: function = { Float(Foundation.log(Double($0))) }
        case .sqrt: function = { $0.squareRoot() }
        case .rsqrt: function = { Float(1 / Double($0).squareRoot()) }
        case .tanh: function = { Float(Foundation.tanh(Double($0))) }
        case .relu: function = { $0.isNaN ? $0 : ($0 > 0 ? $0 : 0) }
        case .convert: function = { Interpreter.converted($0, to: type.dtype) }
        case .stopGradient: function = { $0 }
        default: fatalError("unary: \(op.name) is not a unary elementwise op")
        }
        return HostTensor(type, x.scalars.map(function))
    }

    /// A binary elementwise op on two operands of one shape; `compare` yields 0 or 1.
    ///
    /// `max` and `min` propagate NaN, as XLA's do.
    func binary(_ op: Op, _ a: HostTensor, _ b: HostTensor, _ type: TensorType) -> HostTensor {
        let function: (Float, Float) -> Float
        switch op {
        case .add: function = { $0 + $1 }
        case .sub: function = { $0 - $1 }
        case .mul: function = { $0 * $1 }
        case .div: function = { $0 / $1 }
        case .max: function = { $0.isNaN || $1.isNaN ? .nan : ($0 >= $1 ? $0 : $1) }
        case .min: function = { $0.isNaN || $1.isNaN ? .nan : ($0 <= $1 ? $0 : $1) }
        case .compare(let direction):
            let holds = Interpreter.comparison(direction)
            function = { holds($0, $1) ? 1 : 0 }
        default: fatalError("binary: \(op.name) is not a binary elementwise op")
        }
        return HostTensor(type, zip(a.scalars, b.scalars).map(function))
    }

    /// `select(pred, a, b)`: `a` where `pred` is nonzero (true), else `b`.
    func select(_ predicate: HostTensor, _ a: HostTensor, _ b: HostTensor) -> HostTensor {
        let scalars = predicate.scalars.indices.map { predicate.scalars[$0] != 0 ? a.scalars[$0] : b.scalars[$0] }
        return HostTensor(a.type, scalars)
    }

    /// The IEEE comparison for a `compare` direction (every direction but `ne` is false on NaN).
    static func comparison(_ direction: Comparison) -> (Float, Float) -> Bool {
        switch direction {
        case .eq: { $0 == $1 }
        case .ne: { $0 != $1 }
        case .lt: { $0 < $1 }
        case .le: { $0 <= $1 }
        case .gt: { $0 > $1 }
        case .ge: { $0 >= $1 }
        }
    }

    /// The largest `Float` an i32 can hold: 2^31 − 128 (2^31 − 1 itself is not a `Float`).
    private static let largestI32 = Float(Int32.max).nextDown

    /// One value converted to `dtype`, held as `Float`: to `i32` truncates toward zero
    /// (NaN becomes 0, values beyond the i32 range saturate); to `bool` is `value != 0`;
    /// to `f32` is the value itself.
    static func converted(_ value: Float, to dtype: DType) -> Float {
        switch dtype {
        case .f32: value
        case .bool: value != 0 ? 1 : 0
        case .i32: value.isNaN ? 0 : Swift.min(Swift.max(value.rounded(.towardZero), -0x1p31), largestI32)
        }
    }
}
