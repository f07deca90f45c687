// Conv2D: a 2-D convolution layer on NCHW tensors.

import GraftIR

/// A square-kernel 2-D convolution on NCHW tensors.
///
/// The weight is `[outputChannels, inputChannels, kernelSize, kernelSize]`, initialised
/// He/Kaiming normal with fan-out (std = sqrt(2 / (outputChannels·k²))), as torchvision's
/// ResNet does. The optional bias starts uniform on ±1/sqrt(fan-in), PyTorch's default.
///
/// - Params: `<scope>.weight`, and `<scope>.bias` when `bias` is true.
public struct Conv2D: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ scope: Scope, inputChannels: Int, outputChannels: Int, kernelSize: Int,
                stride: Int = 1, padding: Int = 0, bias: Bool = false,
                file: String = #filePath, line: Int = #line) {
        let fanOut = outputChannels * kernelSize * kernelSize
        weight = scope.param("weight", shape: [outputChannels, inputChannels, kernelSize, kernelSize],
                             .kaimingNormal(fan: fanOut), file: file, line: line)
        let fanIn = inputChannels * kernelSize * kernelSize
        self.bias = bias ? scope.param("bias", shape: [outputChannels], .pytorchDefault(fanIn: fanIn), role: .bias, file: file, line: line) : nil
        self.stride = stride
        self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor {
        let y = conv2d(x, weight, stride: stride, padding: padding)
        guard let bias else { return y }
        return y + bias.reshaped([bias.shape[0], 1, 1])
    }
}
