// RandomUniform: the counter-based generator `random_uniform` computes, defined once here for
// the interpreter; the backend emits the same integer operations in LLVM (Lowering.swift).
//
// An element's value depends only on (seed, step, element index), so it is the same whichever
// thread computes it, in whichever order, in the interpreter or a compiled kernel, and it
// changes from step to step. The mixing function is Chris Wellons' `lowbias32` (a bijection
// of 32-bit integers with good avalanche).

/// The values of `random_uniform`: `value(seed:step:index:)` in [0, 1).
public enum RandomUniform {
    /// A 32-bit integer hash: xor-shift, multiply, xor-shift, multiply, xor-shift.
    @inline(__always) public static func mix(_ x: UInt32) -> UInt32 {
        var x = x
        x ^= x >> 16
        x &*= 0x7feb352d
        x ^= x >> 15
        x &*= 0x846ca68b
        x ^= x >> 16
        return x
    }

    /// The step as the generator reads it: converted to a 32-bit integer as LLVM's
    /// `fptosi.sat` does (toward zero, saturating, NaN is 0), its bits taken as unsigned.
    public static func stepBits(_ step: Double) -> UInt32 {
        let integer: Int32 = step.isNaN ? 0 : step >= 0x1p31 ? .max : step <= -0x1p31 ? .min : Int32(step.rounded(.towardZero))
        return UInt32(bitPattern: integer)
    }

    /// The key of one (seed, step) pair: `mix(seed ⊕ mix(step + 0x9E3779B9))`.
    public static func key(seed: Int, step: UInt32) -> UInt32 {
        mix(UInt32(truncatingIfNeeded: seed) ^ mix(step &+ 0x9E37_79B9))
    }

    /// The top 24 bits of `mix(index ⊕ key)` as a float in [0, 1): `(h >> 8) · 2⁻²⁴`, exact in f32.
    public static func value(key: UInt32, index: Int) -> Double {
        let h = mix(UInt32(truncatingIfNeeded: index) ^ key)
        return Double(h >> 8) * 0x1p-24
    }
}
