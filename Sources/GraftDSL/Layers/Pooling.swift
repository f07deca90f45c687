// Pooling: global average pooling of NCHW feature maps.

/// Averages each channel of an `[N, C, H, W]` tensor over its spatial axes, giving `[N, C]`.
public struct GlobalAveragePool: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { x.mean(axes: [2, 3]) }
}
