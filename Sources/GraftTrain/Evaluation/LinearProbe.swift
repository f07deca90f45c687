// LinearProbe: linear evaluation on frozen features, trained by Graft itself.

import Foundation
import GraftIR
import GraftDSL
import GraftPasses
import GraftRuntime
import GraftData

/// A softmax classifier trained on frozen features with SGD (Nesterov momentum 0.9), as in
/// BYOL's linear evaluation: features are standardised with the training set's mean and
/// standard deviation, the learning rate decays by a cosine, and the classifier is a Graft
/// graph compiled like any other model.
public struct LinearProbe: Sendable {
    public var epochs = 30
    public var batchSize = 256
    public var learningRate = 0.1
    public var weightDecay: Float = 1e-4
    public var seed: UInt64 = 0

    public init(epochs: Int = 30, batchSize: Int = 256, learningRate: Double = 0.1, weightDecay: Float = 1e-4, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.seed = seed
    }

    /// Trains on (`train`, `trainLabels`) and returns the accuracy on the training set and on
    /// (`test`, `testLabels`). Features are `[N, D]` row-major.
    public func evaluate(train: [Float], trainLabels: [Int32], test: [Float], testLabels: [Int32],
                         dimension: Int, classes: Int) throws -> (train: Double, test: Double) {
        let (weight, bias) = try fit(train, trainLabels, dimension: dimension, classes: classes)
        return (LinearProbe.accuracy(train, trainLabels, weight, bias, dimension: dimension, classes: classes),
                LinearProbe.accuracy(test, testLabels, weight, bias, dimension: dimension, classes: classes))
    }

    /// Trains the classifier on (`train`, `trainLabels`) and returns it as it applies to the
    /// features themselves (the standardisation folded in): `logits = x·Wᵀ + b`, W `[classes, D]`.
    public func fit(_ train: [Float], _ trainLabels: [Int32], dimension: Int, classes: Int) throws -> (weight: [Float], bias: [Float]) {
        let (mean, scale) = LinearProbe.standardization(train, dimension: dimension)
        let trainFeatures = LinearProbe.standardize(train, mean: mean, scale: scale, dimension: dimension)
        let batch = Swift.min(batchSize, trainLabels.count)

        let traced = try trace("linear_probe", seed: seed) { g in
            let features = g.input("features", shape: [batch, dimension])
            let labels = g.input("labels", TensorType(.i32, [batch]))
            let classifier = Linear(g.scope("probe"), inputSize: dimension, outputSize: classes)
            return [softmaxCrossEntropy(logits: classifier(features), labels: labels)]
        }
        var graph = traced.graph
        try TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9, nesterov: true, weightDecay: weightDecay))
            .run(&graph, until: .optimized)
        let step = try Executable(graph, threads: 1)
        try step.setVariables(graph.initialValues(seed: seed))

        let batcher = Batcher(count: trainLabels.count, batchSize: batch, seed: seed)
        let schedule = LearningRateSchedule(base: learningRate, warmupSteps: 0, totalSteps: Swift.max(1, epochs * batcher.stepsPerEpoch))
        var stepIndex = 0
        var featureBatch = [Float](repeating: 0, count: batch * dimension)
        for epoch in 0..<epochs {
            for indices in batcher.batches(epoch: epoch) {
                for (row, index) in indices.enumerated() {
                    featureBatch.replaceSubrange((row * dimension)..<((row + 1) * dimension),
                                                 with: trainFeatures[(index * dimension)..<((index + 1) * dimension)])
                }
                _ = try step.run([
                    "features": HostTensor(shape: [batch, dimension], featureBatch),
                    "labels": HostTensor(TensorType(.i32, [batch]), indices.map { Float(trainLabels[$0]) }),
                    "learning_rate": HostTensor(scalar: Float(schedule.value(atStep: stepIndex))),
                ])
                stepIndex += 1
            }
        }
        // (x − mean)·scale·Wᵀ + b = x·(W·scale)ᵀ + (b − Σⱼ W·scale·mean)
        var weight = step.variable("probe.weight")!.scalars, bias = step.variable("probe.bias")!.scalars
        for c in 0..<classes {
            for j in 0..<dimension {
                weight[c * dimension + j] *= scale[j]
                bias[c] -= weight[c * dimension + j] * mean[j]
            }
        }
        return (weight, bias)
    }

    static func standardization(_ x: [Float], dimension: Int) -> (mean: [Float], scale: [Float]) {
        let count = x.count / dimension
        var mean = [Double](repeating: 0, count: dimension), square = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            for j in 0..<dimension {
                let v = Double(x[row * dimension + j])
                mean[j] += v
                square[j] += v * v
            }
        }
        var scale = [Float](repeating: 1, count: dimension)
        for j in 0..<dimension {
            mean[j] /= Double(count)
            let variance = Swift.max(square[j] / Double(count) - mean[j] * mean[j], 0)
            scale[j] = variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        return (mean.map(Float.init), scale)
    }

    static func standardize(_ x: [Float], mean: [Float], scale: [Float], dimension: Int) -> [Float] {
        var result = x
        for i in result.indices { result[i] = (x[i] - mean[i % dimension]) * scale[i % dimension] }
        return result
    }

    /// Fraction of rows whose largest logit `x·Wᵀ + b` is at the label.
    static func accuracy(_ x: [Float], _ labels: [Int32], _ weight: [Float], _ bias: [Float], dimension: Int, classes: Int) -> Double {
        var correct = 0
        for row in labels.indices {
            var best = -Float.infinity, predicted = 0
            for c in 0..<classes {
                var logit = bias[c]
                for j in 0..<dimension { logit += x[row * dimension + j] * weight[c * dimension + j] }
                if logit > best { best = logit; predicted = c }
            }
            if predicted == Int(labels[row]) { correct += 1 }
        }
        return Double(correct) / Double(Swift.max(labels.count, 1))
    }
}
