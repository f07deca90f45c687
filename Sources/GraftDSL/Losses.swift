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

/// SimCLR's NT-Xent (normalised temperature-scaled cross-entropy) over the 2N views of N
/// images: `a[i]` and `b[i]` (`[N, D]` each) are the two views of image i. Every one of the 2N
/// normalised views is classified among the other 2N − 1 by cosine similarity divided by
/// `temperature`, its positive being the other view of its image; the loss is the mean
/// cross-entropy over all 2N:
/// `−mean_i log(exp(s(i, pos(i))/t) / Σ_{k≠i} exp(s(i, k)/t))`.
///
/// ```swift
/// let loss = ntXent(projector(encoder(view1)), projector(encoder(view2)), temperature: 0.1)
/// ```
public func ntXent(_ a: Tensor, _ b: Tensor, temperature: Float = 0.1, file: String = #filePath, line: Int = #line) -> Tensor {
    a.builder.withLayerCall(file: file, line: line) {
        let builder = a.builder
        guard a.rank == 2, a.dtype == .f32, a.type == b.type, a.shape[0] >= 1, temperature > 0, temperature.isFinite else {
            builder.fail(Diagnostic("nt_xent: expects two f32 views [N, D] of the same shape and a positive temperature, got \(a.type), \(b.type) and \(temperature)",
                                    at: builder.operatorLocation))
            return a
        }
        let count = 2 * a.shape[0]
        let square = [count, count]
        let views = l2Normalize(concat([a, b], axis: 0))
        let similarity = matmul(views, views, transposeB: true) * (1 / temperature)
        // A view is never its own candidate: its logit becomes -1e9, so its softmax weight is 0.
        let row = builder.iota(shape: square, axis: 0, dtype: .f32)
        let column = builder.iota(shape: square, axis: 1, dtype: .f32)
        let logits = select(compare(row, .eq, column), builder.constant(-1e9, shape: square), similarity)
        // View i's positive is view i + N (first half) or i − N (second half).
        let half = Float(a.shape[0])
        let positive = compare(column, .eq, row + half).converted(to: .f32) + compare(row, .eq, column + half).converted(to: .f32)
        return -(logSoftmax(logits, axis: 1) * positive).sum(axes: [1]).mean()
    }
}
