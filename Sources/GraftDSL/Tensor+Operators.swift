// Tensor+Operators: arithmetic operators with NumPy broadcasting and scalar literals.
//
// Operators cannot capture their call site, so they take the location of the enclosing
// layer call.

import GraftIR

extension Tensor {
    private func scalar(_ value: Float) -> Tensor {
        builder.record(.constant(value), [], type: .scalar(dtype), at: builder.operatorLocation)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b, at: a.builder.operatorLocation) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b, at: a.builder.operatorLocation) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b, at: a.builder.operatorLocation) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b, at: a.builder.operatorLocation) }

    public static func + (a: Tensor, b: Float) -> Tensor { a + a.scalar(b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a - a.scalar(b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a * a.scalar(b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a / a.scalar(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { b.scalar(a) + b }
    public static func - (a: Float, b: Tensor) -> Tensor { b.scalar(a) - b }
    public static func * (a: Float, b: Tensor) -> Tensor { b.scalar(a) * b }
    public static func / (a: Float, b: Tensor) -> Tensor { b.scalar(a) / b }

    public static prefix func - (x: Tensor) -> Tensor {
        x.builder.record(.neg, [x], at: x.builder.operatorLocation)
    }
}
