// ScalarExpression: what an elementwise op computes at one element, written once as a small
// expression over its operands' elements.
//
// Each elementwise op's definition (Op.swift) gives its meaning as a `ScalarExpression`. The
// reference interpreter and constant folding evaluate it with `evaluate(_:count:)` below; the
// backend lowers each of its few primitives to LLVM instructions. A new elementwise op built
// from these primitives needs no code in any later stage.

import Foundation

/// A function of one element.
public enum ScalarFunction: String, CaseIterable, Hashable, Sendable {
    case neg, abs, exp, log, sqrt, rsqrt, tanh
}

/// An arithmetic operator on two elements.
public enum ScalarOperator: String, CaseIterable, Hashable, Sendable {
    case add, sub, mul, div
}

/// An expression over the elements of an op's operands at one position.
///
/// Values are held as `Float` whatever their dtype: `bool` as 0 or 1, `i32` as integral
/// values (as in the interpreter and the compiled kernels).
public indirect enum ScalarExpression: Hashable, Sendable {
    /// The element of operand `index`.
    case operand(Int)
    /// A constant of `dtype` (its value converted as `convert` would).
    case literal(Float, DType)
    case function(ScalarFunction, ScalarExpression)
    case arithmetic(ScalarOperator, ScalarExpression, ScalarExpression)
    /// IEEE comparison (false when either side is NaN, except `ne`), a `bool`.
    case compare(Comparison, ScalarExpression, ScalarExpression)
    /// `then` where the `bool` condition holds, else `otherwise`.
    case select(ScalarExpression, then: ScalarExpression, otherwise: ScalarExpression)
    /// Element type conversion (see `ScalarExpression.converted(_:to:)`).
    case convert(ScalarExpression, from: DType, to: DType)

    /// The expression's dtype, given its operands' dtypes.
    public func dtype(operands: [DType]) -> DType {
        switch self {
        case .operand(let index): operands[index]
        case .literal(_, let dtype): dtype
        case .function(_, let x), .arithmetic(_, let x, _): x.dtype(operands: operands)
        case .compare: .bool
        case .select(_, let then, _): then.dtype(operands: operands)
        case .convert(_, _, let target): target
        }
    }
}

extension ScalarExpression {
    /// Evaluates the expression at `count` positions; `operands[i]` holds operand i's elements
    /// (one element, repeated, when it holds just one).
    ///
    /// Arithmetic is Float32; transcendental functions (`exp`, `log`, `tanh`, `rsqrt`) are
    /// computed in Float64 and rounded once.
    public func evaluate(_ operands: [[Float]], count: Int) -> [Float] {
        func element(_ values: [Float], _ index: Int) -> Float { values.count == 1 ? values[0] : values[index] }
        switch self {
        case .operand(let index):
            let values = operands[index]
            return values.count == count ? values : [Float](repeating: values[0], count: count)
        case .literal(let value, let dtype):
            return [Float](repeating: ScalarExpression.converted(value, to: dtype), count: count)
        case .function(let function, let x):
            return x.evaluate(operands, count: count).map(ScalarExpression.apply(function))
        case .arithmetic(let op, let a, let b):
            let (x, y) = (a.evaluate(operands, count: count), b.evaluate(operands, count: count))
            switch op {
            case .add: return zip(x, y).map { $0 + $1 }
            case .sub: return zip(x, y).map { $0 - $1 }
            case .mul: return zip(x, y).map { $0 * $1 }
            case .div: return zip(x, y).map { $0 / $1 }
            }
        case .compare(let direction, let a, let b):
            let holds = direction.holds
            return zip(a.evaluate(operands, count: count), b.evaluate(operands, count: count)).map { holds($0, $1) ? 1 : 0 }
        case .select(let condition, let then, let otherwise):
            let (p, x, y) = (condition.evaluate(operands, count: count), then.evaluate(operands, count: count),
                             otherwise.evaluate(operands, count: count))
            return (0..<count).map { p[$0] != 0 ? x[$0] : y[$0] }
        case .convert(let x, _, let target):
            return x.evaluate(operands, count: count).map { ScalarExpression.converted($0, to: target) }
        }
    }

    /// The host meaning of a scalar function.
    static func apply(_ function: ScalarFunction) -> (Float) -> Float {
        switch function {
        case .neg: { -$0 }
        case .abs: { Swift.abs($0) }
        case .exp: { Float(Foundation.exp(Double($0))) }
        case .log: { Float(Foundation.log(Double($0))) }
        case .sqrt: { $0.squareRoot() }
        case .rsqrt: { Float(1 / Double($0).squareRoot()) }
        case .tanh: { Float(Foundation.tanh(Double($0))) }
        }
    }

    /// The largest `Float` an i32 can hold: 2^31 − 128 (2^31 − 1 itself is not a `Float`).
    public static let largestI32 = Float(Int32.max).nextDown

    /// One value converted to `dtype`, held as `Float`: to `i32` truncates toward zero
    /// (NaN becomes 0, values beyond the i32 range saturate); to `bool` is `value != 0`;
    /// to `f32` is the value itself.
    public static func converted(_ value: Float, to dtype: DType) -> Float {
        switch dtype {
        case .f32: value
        case .bool: value != 0 ? 1 : 0
        case .i32: value.isNaN ? 0 : Swift.min(Swift.max(value.rounded(.towardZero), -0x1p31), largestI32)
        }
    }
}

extension Comparison {
    /// The IEEE comparison (every direction but `ne` is false on NaN).
    public var holds: (Float, Float) -> Bool {
        switch self {
        case .eq: { $0 == $1 }
        case .ne: { $0 != $1 }
        case .lt: { $0 < $1 }
        case .le: { $0 <= $1 }
        case .gt: { $0 > $1 }
        case .ge: { $0 >= $1 }
        }
    }
}
