// LayerNorm: normalisation of each sample over its trailing axes, with a learned affine map.

import GraftIR

/// Layer normalisation (Ba et al.) over the trailing axes `normalizedShape` of its input, as
/// PyTorch's `nn.LayerNorm`: `(x − mean) / sqrt(var + eps) · weight + bias`, with the biased
/// variance, the same in training and inference.
///
/// ```swift
/// let norm = LayerNorm(scope("norm"), features: 64)   // over the last axis of [N, 64]
/// ```
///
/// - Params: `<scope>.weight` (ones) and `<scope>.bias` (zeros), both of shape
///   `normalizedShape` and role `normalization`, so optimizers do not decay them.
public struct LayerNorm: Layer {
    public let weight: Tensor
    public let bias: Tensor
    public let normalizedShape: [Int]
    public let epsilon: Float

    public init(_ scope: Scope, normalizedShape: [Int], epsilon: Float = 1e-5, file: String = #filePath, line: Int = #line) {
        weight = scope.param("weight", shape: normalizedShape, .ones, role: .normalization, file: file, line: line)
        bias = scope.param("bias", shape: normalizedShape, .zeros, role: .normalization, file: file, line: line)
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
    }

    /// Layer normalisation over the last axis, of size `features`.
    public init(_ scope: Scope, features: Int, epsilon: Float = 1e-5, file: String = #filePath, line: Int = #line) {
        self.init(scope, normalizedShape: [features], epsilon: epsilon, file: file, line: line)
    }

    public func forward(_ x: Tensor) -> Tensor {
        let builder = x.builder
        guard x.rank >= normalizedShape.count, Array(x.shape.suffix(normalizedShape.count)) == normalizedShape else {
            builder.fail(Diagnostic("layer_norm: normalizes trailing axes \(normalizedShape), but the input is \(x.type)",
                                    at: builder.operatorLocation))
            return x
        }
        let axes = Array((x.rank - normalizedShape.count)..<x.rank)
        let centered = x - x.mean(axes: axes, keepDims: true)
        let variance = (centered * centered).mean(axes: axes, keepDims: true)
        return centered * rsqrt(variance + epsilon) * weight + bias
    }
}
