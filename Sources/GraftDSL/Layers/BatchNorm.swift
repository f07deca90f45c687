// BatchNorm: batch normalisation over the channel axis, with running statistics as state.

import GraftIR

/// Batch normalisation of `[N, C]` or `[N, C, H, W]` tensors over every axis but the channel
/// axis 1, with a learned scale and offset.
///
/// In training mode (the builder's `isTraining`) it normalises with the batch mean and the
/// biased batch variance, and updates the running statistics as PyTorch does:
/// `running = (1 − momentum)·running + momentum·batch`, the variance unbiased by n/(n−1).
/// Each call chains its update after the previous one in the same step, so a network applied
/// to two views updates its statistics twice, in order. In inference mode it normalises with
/// the running statistics and updates nothing.
///
/// - Params: `<scope>.weight` (scale, ones), `<scope>.bias` (offset, zeros).
/// - State: `<scope>.running_mean` (zeros), `<scope>.running_var` (ones).
public struct BatchNorm: Layer {
    public let scale: Tensor
    public let offset: Tensor
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public let epsilon: Float
    public let momentum: Float

    public init(_ scope: Scope, features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1,
                file: String = #filePath, line: Int = #line) {
        scale = scope.param("weight", shape: [features], .ones, role: .normalization, file: file, line: line)
        offset = scope.param("bias", shape: [features], .zeros, role: .normalization, file: file, line: line)
        runningMean = scope.state("running_mean", shape: [features], .zeros, file: file, line: line)
        runningVariance = scope.state("running_var", shape: [features], .ones, file: file, line: line)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public func forward(_ x: Tensor) -> Tensor {
        let builder = x.builder
        guard x.rank == 2 || x.rank == 4 else {
            builder.fail(Diagnostic("batch_norm: expects [N, C] or [N, C, H, W], got \(x.type)", at: builder.operatorLocation))
            return x
        }
        let axes = x.rank == 4 ? [0, 2, 3] : [0]
        let channelShape = x.rank == 4 ? [scale.shape[0], 1, 1] : [scale.shape[0]]
        let mean: Tensor
        let variance: Tensor
        if builder.isTraining {
            mean = x.mean(axes: axes)
            let centered = x - mean.reshaped(channelShape)
            variance = (centered * centered).mean(axes: axes)
            let count = Float(x.type.elementCount / scale.shape[0])
            let unbiased = variance * (count / Swift.max(count - 1, 1))
            let keep = 1 - momentum
            builder.update(runningMean, to: builder.latestValue(of: runningMean) * keep + mean * momentum)
            builder.update(runningVariance, to: builder.latestValue(of: runningVariance) * keep + unbiased * momentum)
        } else {
            mean = runningMean
            variance = runningVariance
        }
        let inverse = rsqrt(variance + epsilon)
        let normalized = (x - mean.reshaped(channelShape)) * inverse.reshaped(channelShape)
        return normalized * scale.reshaped(channelShape) + offset.reshaped(channelShape)
    }
}
