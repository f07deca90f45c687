// KNNClassifier: weighted k-nearest-neighbour accuracy on frozen features (cosine similarity).

import GraftBackend

/// Top-1 accuracy of a weighted kNN classifier on L2-normalised features: the k training
/// images most similar (cosine) to a test image vote for their labels with weight
/// exp(similarity / 0.07), the protocol of Wu et al. (2018) that self-supervised papers report.
public enum KNNClassifier {
    public static let temperature: Float = 0.07

    /// Accuracy for each `k`, on `test` features against `train` features (`[N, D]`).
    public static func accuracy(train: [Float], trainLabels: [Int32], test: [Float], testLabels: [Int32],
                                dimension: Int, classes: Int, k ks: [Int]) -> [Int: Double] {
        let trainCount = trainLabels.count, testCount = testLabels.count
        let trainNormalized = normalizedRows(train, dimension: dimension)
        let testNormalized = normalizedRows(test, dimension: dimension)
        let kMax = Swift.min(ks.max() ?? 1, trainCount)
        var correct = [Int: Int]()
        let chunk = 256
        var similarities = [Float](repeating: 0, count: chunk * trainCount)
        var start = 0
        while start < testCount {
            let rows = Swift.min(chunk, testCount - start)
            trainNormalized.withUnsafeBufferPointer { trainPointer in
                testNormalized.withUnsafeBufferPointer { testPointer in
                    similarities.withUnsafeMutableBufferPointer { out in
                        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: trainCount, k: dimension, alpha: 1,
                                   a: testPointer.baseAddress! + start * dimension, lda: dimension,
                                   b: trainPointer.baseAddress!, ldb: dimension, beta: 0, c: out.baseAddress!, ldc: trainCount)
                    }
                }
            }
            for row in 0..<rows {
                let neighbours = topK(similarities, offset: row * trainCount, count: trainCount, k: kMax)
                for k in ks {
                    var votes = [Float](repeating: 0, count: classes)
                    for (similarity, index) in neighbours.prefix(k) {
                        votes[Int(trainLabels[index])] += Foundation.exp(similarity / temperature)
                    }
                    let predicted = votes.indices.max { votes[$0] < votes[$1] }!
                    if predicted == Int(testLabels[start + row]) { correct[k, default: 0] += 1 }
                }
            }
            start += rows
        }
        return Dictionary(uniqueKeysWithValues: ks.map { ($0, Double(correct[$0, default: 0]) / Double(Swift.max(testCount, 1))) })
    }

    /// Each row divided by its L2 norm (rows of zeros stay zero).
    static func normalizedRows(_ x: [Float], dimension: Int) -> [Float] {
        var result = x
        for row in 0..<(x.count / Swift.max(dimension, 1)) {
            var sum: Float = 0
            for j in 0..<dimension { sum += x[row * dimension + j] * x[row * dimension + j] }
            let scale = sum > 0 ? 1 / sum.squareRoot() : 0
            for j in 0..<dimension { result[row * dimension + j] *= scale }
        }
        return result
    }

    /// The `k` largest (similarity, index) pairs of one row, largest first.
    static func topK(_ values: [Float], offset: Int, count: Int, k: Int) -> [(Float, Int)] {
        // A min-heap of the best k seen so far.
        var heap: [(Float, Int)] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count && heap[l].0 < heap[smallest].0 { smallest = l }
                if r < heap.count && heap[r].0 < heap[smallest].0 { smallest = r }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        for index in 0..<count {
            let value = values[offset + index]
            if heap.count < k {
                heap.append((value, index))
                var i = heap.count - 1
                while i > 0 && heap[(i - 1) / 2].0 > heap[i].0 {
                    heap.swapAt(i, (i - 1) / 2)
                    i = (i - 1) / 2
                }
            } else if value > heap[0].0 {
                heap[0] = (value, index)
                siftDown(0)
            }
        }
        return heap.sorted { $0.0 > $1.0 }
    }
}

import Foundation
