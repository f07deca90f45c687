// Activations: parameter-free layers that wrap an activation function.

/// The layer form of `relu(_:)`.
public struct ReLU: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { relu(x) }
}

/// The layer form of `tanh(_:)`.
public struct Tanh: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { tanh(x) }
}

/// The layer form of `leakyReLU(_:slope:)`: `x` where `x > 0`, else `slope·x`.
public struct LeakyReLU: Layer {
    public let slope: Float
    public init(slope: Float = 0.01) { self.slope = slope }
    public func forward(_ x: Tensor) -> Tensor { leakyReLU(x, slope: slope) }
}

/// The layer form of `gelu(_:)` (the tanh approximation).
public struct GELU: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { gelu(x) }
}

/// The layer form of `softmax(_:axis:)`.
public struct Softmax: Layer {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func forward(_ x: Tensor) -> Tensor { softmax(x, axis: axis) }
}

/// The layer form of `logSoftmax(_:axis:)`.
public struct LogSoftmax: Layer {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func forward(_ x: Tensor) -> Tensor { logSoftmax(x, axis: axis) }
}
