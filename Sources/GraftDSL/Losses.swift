// Losses: normalisation and loss functions written from primitive ops.

import GraftIR

/// Each row of `x: [N, D]` divided by its L2 norm, `x / sqrt(max(Σx², 1e-12))`, as in BYOL.
public func l2Normalize(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.withLayerCall(file: file, line: line) {
        let squaredNorm = (x * x).sum(axes: [-1], keepDims: true)
        let floor = x.builder.constant(1e-12)
        return x * rsqrt(maximum(squaredNorm, floor))
    }
}

/// BYOL's regression loss per row: `‖p̂ − ẑ‖² = 2 − 2·cos(p, z)`, averaged over the batch.
public func normalizedMSE(_ prediction: Tensor, _ target: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    prediction.builder.withLayerCall(file: file, line: line) {
        let cosine = (l2Normalize(prediction) * l2Normalize(target)).sum(axes: [-1])
        return (2 - 2 * cosine).mean()
    }
}

/// Mean softmax cross-entropy of `logits: [N, K]` against integer `labels: [N]` (i32):
/// `−mean(logSoftmax(logits)[n, labels[n]])`, computed from the max-shifted log-softmax so
/// large logits stay finite.
///
/// ```swift
/// let loss = crossEntropy(logits: model(images), labels: labels)
/// ```
public func crossEntropy(logits: Tensor, labels: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    softmaxCrossEntropy(logits: logits, labels: labels, file: file, line: line)
}

/// Mean softmax cross-entropy of `logits: [N, K]` against integer `labels: [N]` (i32); the
/// same as `crossEntropy(logits:labels:)`.
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    logits.builder.withLayerCall(file: file, line: line) {
        let builder = logits.builder
        guard logits.rank == 2, logits.dtype == .f32, labels.dtype == .i32, labels.shape == [logits.shape[0]] else {
            builder.fail(Diagnostic("cross_entropy: expects f32 logits [N, K] and i32 labels [N], got \(logits.type) and \(labels.type)",
                                    at: builder.operatorLocation))
            return logits
        }
        let logProbabilities = logSoftmax(logits, axis: 1)
        let classIndex = builder.iota(shape: logits.shape, axis: 1)
        let oneHot = compare(classIndex, .eq, labels.reshaped([labels.shape[0], 1])).converted(to: .f32)
        return -(logProbabilities * oneHot).sum(axes: [1]).mean()
    }
}
