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

/// Mean softmax cross-entropy of `logits: [N, K]` against integer `labels: [N]` (i32).
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    logits.builder.withLayerCall(file: file, line: line) {
        let builder = logits.builder
        let shifted = logits - stopGradient(logits.max(axes: [1], keepDims: true))
        let logSumExp = log(exp(shifted).sum(axes: [1], keepDims: true))
        let classIndex = builder.iota(shape: logits.shape, axis: 1)
        let oneHot = compare(classIndex, .eq, labels.reshaped([labels.shape.first ?? 0, 1])).converted(to: .f32)
        return -((shifted - logSumExp) * oneHot).sum(axes: [1]).mean()
    }
}
