// Linear: a fully connected layer, y = x·Wᵀ + b.

import GraftIR

/// A fully connected layer on `[batch, inputSize]` tensors: `y = x·Wᵀ + b`.
///
/// The weight is `[outputSize, inputSize]` (PyTorch's layout) and both weight and bias start
/// uniform on ±1/sqrt(inputSize), PyTorch's default.
///
/// - Params: `<scope>.weight`, and `<scope>.bias` when `bias` is true.
public struct Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ scope: Scope, inputSize: Int, outputSize: Int, bias: Bool = true,
                file: String = #filePath, line: Int = #line) {
        let initializer = Initializer.pytorchDefault(fanIn: inputSize)
        weight = scope.param("weight", shape: [outputSize, inputSize], initializer, file: file, line: line)
        self.bias = bias ? scope.param("bias", shape: [outputSize], initializer, role: .bias, file: file, line: line) : nil
    }

    public func forward(_ x: Tensor) -> Tensor {
        let y = matmul(x, weight, transposeB: true)
        guard let bias else { return y }
        return y + bias
    }
}
