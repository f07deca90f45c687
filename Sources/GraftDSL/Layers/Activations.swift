// Activations: parameter-free layers that wrap an elementwise function.

/// The layer form of `relu(_:)`.
public struct ReLU: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { relu(x) }
}
