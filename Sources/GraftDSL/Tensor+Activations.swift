// Tensor+Activations: activation and normalisation functions written from primitive ops,
// each in its numerically stable form.

import Foundation
import GraftIR

extension Tensor {
    /// `axis` counted from the end when negative, or nil (with a located error) when it is
    /// not an axis of the tensor.
    func normalizedAxis(_ axis: Int, for function: String) -> Int? {
        let normalized = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(normalized) else {
            builder.fail(Diagnostic("\(function): axis \(axis) is out of range for \(type)", at: builder.operatorLocation))
            return nil
        }
        return normalized
    }
}

/// `x − max(x)` along `axis`, the max kept as a constant: the shift every softmax form uses so
/// `exp` never overflows (the softmax does not depend on it, so its gradient is exactly zero).
private func shiftedByMax(_ x: Tensor, axis: Int) -> Tensor {
    x - stopGradient(x.max(axes: [axis], keepDims: true))
}

/// Softmax along `axis` (the last by default): `exp(x − max) / Σ exp(x − max)`, finite for
/// any finite logits.
///
/// ```swift
/// let probabilities = softmax(logits)            // rows of [N, K] sum to 1
/// ```
public func softmax(_ x: Tensor, axis: Int = -1, file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.withLayerCall(file: file, line: line) {
        guard let axis = x.normalizedAxis(axis, for: "softmax") else { return x }
        let exponentials = exp(shiftedByMax(x, axis: axis))
        return exponentials / exponentials.sum(axes: [axis], keepDims: true)
    }
}

/// Log-softmax along `axis` (the last by default): `(x − max) − log Σ exp(x − max)`, finite
/// for any finite logits (no `log` of a rounded-to-zero probability).
///
/// ```swift
/// let logProbabilities = logSoftmax(logits, axis: 1)
/// ```
public func logSoftmax(_ x: Tensor, axis: Int = -1, file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.withLayerCall(file: file, line: line) {
        guard let axis = x.normalizedAxis(axis, for: "log_softmax") else { return x }
        let shifted = shiftedByMax(x, axis: axis)
        return shifted - log(exp(shifted).sum(axes: [axis], keepDims: true))
    }
}

/// Leaky ReLU: `x` where `x > 0`, else `slope·x`.
///
/// ```swift
/// let y = leakyReLU(x, slope: 0.01)
/// ```
public func leakyReLU(_ x: Tensor, slope: Float = 0.01, file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.withLayerCall(file: file, line: line) {
        select(compare(x, .gt, x.builder.constant(0)), x, x * slope)
    }
}

/// GELU in its tanh approximation (Hendrycks & Gimpel; PyTorch's `approximate="tanh"`):
/// `½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, within about 1e-3 of the exact `x·Φ(x)`.
///
/// ```swift
/// let y = gelu(x)
/// ```
public func gelu(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.withLayerCall(file: file, line: line) {
        let inner = (x + x * x * x * 0.044715) * Float((2 / Double.pi).squareRoot())
        return x * 0.5 * (1 + tanh(inner))
    }
}

/// Tensors joined along `axis` (negative counts from the end); every tensor has the same
/// shape outside `axis` and the same dtype. The gradient slices each piece back out.
///
/// ```swift
/// let both = concatenate([a, b], axis: 1)        // [N, 3] and [N, 5] → [N, 8]
/// ```
public func concatenate(_ tensors: [Tensor], axis: Int, file: String = #filePath, line: Int = #line) -> Tensor {
    guard let first = tensors.first else {
        preconditionFailure("concatenate: give at least one tensor")
    }
    let builder = first.builder
    let location = builder.location(file: file, line: line)
    let normalized = axis < 0 ? axis + first.rank : axis
    return builder.record(.concat(axis: normalized), tensors, at: location)
}
