// ScalarExpression: what an elementwise op computes at one element, written once as a small
// expression over its operands' elements.
//
// Each elementwise op's definition (Op.swift) gives its meaning as a `ScalarExpression`. The
// reference interpreter and constant folding evaluate it with `evaluate(_:count:precision:)` below; the
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

/// The arithmetic an evaluation on the host uses.
public enum Precision: String, CaseIterable, Hashable, Sendable {
    /// Every op's result rounded to Float32, as the compiled code computes (sums and
    /// transcendental functions evaluated in Float64 first, then rounded once).
    case float32
    /// Everything in Float64, nothing rounded: an oracle for the Float32 results.
    case float64

    /// `value` as this precision holds it.
    @inline(__always) public func round(_ value: Double) -> Double {
        switch self {
        case .float32: Double(Float(value))
        case .float64: value
        }
    }
}

extension ScalarExpression {
    /// Evaluates the expression at `count` positions; `operands[i]` holds operand i's elements
    /// (one element, repeated, when it holds just one). At `.float32` every primitive's result
    /// is rounded to Float32, which for + − × ÷ and √ of Float32 values is the Float32
    /// operation itself; `exp`, `log`, `tanh` and `rsqrt` are computed in Float64 and rounded once.
    public func evaluate(_ operands: [[Double]], count: Int, precision: Precision) -> [Double] {
        func recurse(_ e: ScalarExpression) -> [Double] { e.evaluate(operands, count: count, precision: precision) }
        switch self {
        case .operand(let index):
            let values = operands[index]
            return values.count == count ? values : [Double](repeating: values[0], count: count)
        case .literal(let value, let dtype):
            return [Double](repeating: Double(ScalarExpression.converted(value, to: dtype)), count: count)
        case .function(let function, let x):
            let apply = ScalarExpression.apply(function)
            return recurse(x).map { precision.round(apply($0)) }
        case .arithmetic(let op, let a, let b):
            let (x, y) = (recurse(a), recurse(b))
            let result: [Double] = switch op {
            case .add: zip(x, y).map { $0 + $1 }
            case .sub: zip(x, y).map { $0 - $1 }
            case .mul: zip(x, y).map { $0 * $1 }
            case .div: zip(x, y).map { $0 / $1 }
            }
            return result.map(precision.round)
        case .compare(let direction, let a, let b):
            let holds = direction.holds
            return zip(recurse(a), recurse(b)).map { holds($0, $1) ? 1 : 0 }
        case .select(let condition, let then, let otherwise):
            let (p, x, y) = (recurse(condition), recurse(then), recurse(otherwise))
            return (0..<count).map { p[$0] != 0 ? x[$0] : y[$0] }
        case .convert(let x, _, let target):
            return recurse(x).map { ScalarExpression.converted($0, to: target) }
        }
    }

    /// The host meaning of a scalar function, in Float64.
    static func apply(_ function: ScalarFunction) -> (Double) -> Double {
        switch function {
        case .neg: { -$0 }
        case .abs: { Swift.abs($0) }
        case .exp: { Foundation.exp($0) }
        case .log: { Foundation.log($0) }
        case .sqrt: { $0.squareRoot() }
        case .rsqrt: { 1 / $0.squareRoot() }
        case .tanh: { Foundation.tanh($0) }
        }
    }

    /// The largest `Float` an i32 can hold: 2^31 − 128 (2^31 − 1 itself is not a `Float`).
    public static let largestI32 = Float(Int32.max).nextDown

    /// `converted(_:to:)` on a Float64 value (the interpreter's representation).
    public static func converted(_ value: Double, to dtype: DType) -> Double {
        switch dtype {
        case .f32: value
        case .bool: value != 0 ? 1 : 0
        case .i32: value.isNaN ? 0 : Swift.min(Swift.max(value.rounded(.towardZero), -0x1p31), Double(largestI32))
        }
    }

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
    public var holds: (Double, Double) -> Bool {
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
