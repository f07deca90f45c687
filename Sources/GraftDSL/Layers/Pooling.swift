// Pooling: max, average and global average pooling of NCHW feature maps.

/// 2-D max pooling over square windows (`maxPool2d(_:kernelSize:stride:padding:)`).
///
/// ```swift
/// let pool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)   // [N, C, 28, 28] → [N, C, 14, 14]
/// ```
public struct MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// - Parameters:
    ///   - stride: defaults to `kernelSize` (non-overlapping windows), as in PyTorch.
    ///   - padding: −inf on each side, at most `kernelSize / 2`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor { maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D average pooling over square windows, padding counted as zeros in every window's
/// kernelSize² (`avgPool2d(_:kernelSize:stride:padding:)`).
public struct AvgPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// - Parameters:
    ///   - stride: defaults to `kernelSize` (non-overlapping windows), as in PyTorch.
    ///   - padding: zeros on each side, at most `kernelSize / 2`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor { avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Averages each channel of an `[N, C, H, W]` tensor over its spatial axes, giving `[N, C]`.
public struct GlobalAveragePool: Layer {
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { x.mean(axes: [2, 3]) }
}
