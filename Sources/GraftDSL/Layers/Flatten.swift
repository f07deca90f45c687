// Flatten: the bridge from feature maps to a Linear layer.

import GraftIR

/// Reshapes `[N, d1, d2, …]` to `[N, d1·d2·…]`, keeping the batch axis (`[N]` becomes
/// `[N, 1]`): a `reshape`, so it costs no copy. A scalar has no batch axis: an error at the
/// layer's call.
public struct Flatten: Layer {
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        guard let batch = x.shape.first else {
            x.builder.fail(Diagnostic("Flatten: expects a tensor with a batch axis, got \(x.type)", at: x.builder.operatorLocation))
            return x
        }
        return x.reshaped([batch, x.shape.dropFirst().reduce(1, *)])
    }
}
