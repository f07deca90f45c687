// MLP: the two-layer head BYOL uses for its projector and predictor.

/// Linear → BatchNorm → ReLU → Linear, BYOL's projector and predictor.
///
/// The first Linear has a bias (it is followed by BatchNorm, as in the paper's code); the
/// last has `outputBias` (BYOL: none). The output is not batch-normalised.
///
/// - Params: `<scope>.fc1.{weight,bias}`, `<scope>.bn.{weight,bias}`, `<scope>.fc2.weight`.
/// - State: `<scope>.bn.{running_mean,running_var}`.
public struct MLP: Layer {
    public let fc1: Linear
    public let bn: BatchNorm
    public let fc2: Linear

    public init(_ scope: Scope, inputSize: Int, hiddenSize: Int, outputSize: Int, outputBias: Bool = false,
                file: String = #filePath, line: Int = #line) {
        fc1 = Linear(scope("fc1"), inputSize: inputSize, outputSize: hiddenSize, file: file, line: line)
        bn = BatchNorm(scope("bn"), features: hiddenSize, file: file, line: line)
        fc2 = Linear(scope("fc2"), inputSize: hiddenSize, outputSize: outputSize, bias: outputBias, file: file, line: line)
    }

    public func forward(_ x: Tensor) -> Tensor {
        fc2(relu(bn(fc1(x))))
    }
}
