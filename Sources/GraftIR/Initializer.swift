// Initializer: seeded, name-keyed initial values for params and state.

import Foundation

/// How a param or state gets its initial value.
public enum Initializer: Sendable, Hashable {
    /// Every element `value`.
    case constant(Float)
    /// Uniform on `[-bound, bound)`.
    case uniform(bound: Float)
    /// Normal with mean 0 and standard deviation `std`.
    case normal(std: Float)

    /// All zeros.
    public static let zeros = Initializer.constant(0)
    /// All ones.
    public static let ones = Initializer.constant(1)

    /// He/Kaiming normal for a layer followed by ReLU: std = sqrt(2 / fan), with the fan
    /// chosen by the caller (torchvision's ResNet uses fan-out for convolutions).
    public static func kaimingNormal(fan: Int) -> Initializer { .normal(std: (2 / Float(fan)).squareRoot()) }

    /// PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases:
    /// uniform on ±1/sqrt(fan-in).
    public static func pytorchDefault(fanIn: Int) -> Initializer { .uniform(bound: 1 / Float(fanIn).squareRoot()) }

    /// The initial value of the tensor `name` of `type`, drawn from a stream keyed by `seed`
    /// and `name`.
    public func values(_ type: TensorType, name: String, seed: UInt64) -> HostTensor {
        var generator = SplitMix64(seed: seed, name: name)
        let count = type.elementCount
        switch self {
        case .constant(let value):
            return HostTensor(repeating: value, type)
        case .uniform(let bound):
            return HostTensor(type, (0..<count).map { _ in Float((generator.nextUnit() * 2 - 1) * Double(bound)) })
        case .normal(let std):
            return HostTensor(type, (0..<count).map { _ in Float(generator.nextNormal() * Double(std)) })
        }
    }
}

/// SplitMix64: a small, fast, well-distributed 64-bit generator, seeded per tensor name.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream keyed by `seed` and `name` (FNV-1a of the name's UTF-8 bytes).
    public init(seed: UInt64, name: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        state = seed &* 0x9e37_79b9_7f4a_7c15 ^ hash
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform on [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal by the Box–Muller transform.
    public mutating func nextNormal() -> Double {
        let u1 = Swift.max(nextUnit(), 0x1p-53)
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
