// Evaluation: the protocols `graft eval` runs on a trained encoder, and their baselines.

import Foundation
import GraftIR
import GraftDSL
import GraftPasses
import GraftRuntime
import GraftModels
import GraftData

/// How an encoder's representation is measured.
public enum EvaluationProtocol: String, Sendable, CaseIterable {
    /// A linear classifier on frozen features (encoder in inference mode).
    case linear
    /// Weighted kNN on frozen features (k = 20 and 200, cosine).
    case knn
    /// The encoder and a linear classifier fine-tuned on a subset of the labels.
    case finetune
}

/// Where features come from.
public enum FeatureSource: Sendable {
    /// The online encoder with the given params and BatchNorm statistics.
    case encoder(ResNetConfig, [String: HostTensor])
    /// The pixels themselves (the baseline any representation must beat).
    case rawPixels
}

public enum Evaluation {
    /// The fraction of rows of `logits` (`[N, classes]`, row-major) whose largest entry is at
    /// the row's label (the first of equal largest entries counts).
    public static func accuracy(logits: [Float], labels: [Int32], classes: Int) -> Double {
        precondition(logits.count == labels.count * classes, "accuracy: \(logits.count) logits for \(labels.count) labels of \(classes) classes")
        guard !labels.isEmpty else { return 0 }
        var correct = 0
        for (row, label) in labels.enumerated() {
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            if let best = scores.indices.max(by: { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }), best - row * classes == Int(label) {
                correct += 1
            }
        }
        return Double(correct) / Double(labels.count)
    }

    /// Features of the training and test sets.
    public static func features(_ source: FeatureSource, train: Dataset, test: Dataset) throws -> (train: [Float], test: [Float], dimension: Int) {
        switch source {
        case .rawPixels:
            return (train.images, test.images, train.channels * train.height * train.width)
        case .encoder(let config, let variables):
            let extractor = try FeatureExtractor(encoder: config, imageSize: train.height)
            try extractor.load(variables)
            return (try extractor.features(of: train), try extractor.features(of: test), extractor.featureSize)
        }
    }

    /// Linear probe and kNN accuracies of `source` on the test set, in one report.
    public static func linearAndKNN(_ source: FeatureSource, train: Dataset, test: Dataset, probe: LinearProbe = LinearProbe(),
                                    protocols: Set<EvaluationProtocol> = [.linear, .knn]) throws -> [String: Double] {
        let (trainFeatures, testFeatures, dimension) = try features(source, train: train, test: test)
        var results: [String: Double] = [:]
        if protocols.contains(.linear) {
            results["linear"] = try probe.evaluate(train: trainFeatures, trainLabels: train.labels, test: testFeatures,
                                                   testLabels: test.labels, dimension: dimension, classes: train.classes).test
        }
        if protocols.contains(.knn) {
            let knn = KNNClassifier.accuracy(train: trainFeatures, trainLabels: train.labels, test: testFeatures, testLabels: test.labels,
                                             dimension: dimension, classes: train.classes, k: [20, 200])
            results["knn20"] = knn[20]
            results["knn200"] = knn[200]
        }
        return results
    }

    /// A fixed, seeded, class-balanced subset holding `fraction` of the labels.
    public static func labelSubset(_ dataset: Dataset, fraction: Double, seed: UInt64 = 2020) -> [Int] {
        guard fraction < 1 else { return Array(0..<dataset.count) }
        var byClass = [[Int]](repeating: [], count: dataset.classes)
        for index in 0..<dataset.count { byClass[Int(dataset.labels[index])].append(index) }
        var generator = SplitMix64(seed: seed)
        var chosen: [Int] = []
        for var members in byClass {
            members.shuffle(using: &generator)
            chosen += members.prefix(Swift.max(1, Int((Double(members.count) * fraction).rounded())))
        }
        return chosen.sorted()
    }

    /// Fine-tunes the encoder (from `variables`) and a linear classifier on the labelled subset
    /// with SGD (Nesterov momentum 0.9, cosine learning rate, crop-and-flip augmentation), then
    /// reports test accuracy with the encoder in inference mode. The classifier starts random,
    /// or with `headFromProbe` as the linear probe of the subset's frozen features (LP-FT: a
    /// random head's first gradients scramble a pretrained encoder; but a probe of poorly
    /// scaled features, such as a random-init encoder's, makes fine-tuning fail; both measured
    /// in Docs/Results.md).
    public static func fineTune(encoder config: ResNetConfig, variables: [String: HostTensor], train: Dataset, test: Dataset,
                                fraction: Double, epochs: Int, batchSize: Int = 128, learningRate: Double = 0.05,
                                headFromProbe: Bool = false, seed: UInt64 = 0, progress: (String) -> Void = { _ in }) throws -> Double {
        let subset = train.subset(labelSubset(train, fraction: fraction))
        let batch = Swift.min(batchSize, subset.count)
        let traced = try SupervisedClassifier.trace(config, classes: train.classes, imageSize: train.height, batchSize: batch, seed: seed)
        var graph = traced.graph
        try TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)).run(&graph, until: .optimized)
        let step = try Executable(graph)
        try step.setVariables(graph.initialValues(seed: seed))
        try step.setVariables(variables.filter { $0.key.hasPrefix("online.encoder.") })
        let extractor = try FeatureExtractor(encoder: config, imageSize: train.height)
        if headFromProbe {
            try extractor.load(step.variables)
            let (weight, bias) = try LinearProbe(seed: seed).fit(try extractor.features(of: subset), subset.labels,
                                                                dimension: config.featureSize, classes: train.classes)
            try step.setVariable("online.classifier.weight", HostTensor(shape: [train.classes, config.featureSize], weight))
            try step.setVariable("online.classifier.bias", HostTensor(shape: [train.classes], bias))
        }

        var augmentation = Augmentation()   // crop and flip only
        augmentation.cropScale = 0.5...1
        augmentation.jitterProbability = 0
        augmentation.grayscaleProbability = 0
        augmentation.blurProbability = 0
        augmentation.solarizeProbability = 0
        let views = BYOLAugmentation(view1: augmentation, view2: augmentation)
        let batcher = Batcher(count: subset.count, batchSize: batch, seed: seed)
        let schedule = LearningRateSchedule(base: learningRate, warmupSteps: 0, totalSteps: Swift.max(1, epochs * batcher.stepsPerEpoch))
        var stepIndex = 0
        for epoch in 0..<epochs {
            for indices in batcher.batches(epoch: epoch) {
                let (images, _) = views.twoViews(of: subset, indices: indices, epoch: epoch, seed: seed)
                let outputs = try step.run([
                    "images": HostTensor(step.graph[step.graph.inputs[0]].type, images),
                    "labels": HostTensor(TensorType(.i32, [batch]), indices.map { Float(subset.labels[$0]) }),
                    "learning_rate": HostTensor(scalar: Float(schedule.value(atStep: stepIndex))),
                ])
                stepIndex += 1
                guard outputs[0].scalars[0].isFinite else {
                    throw Diagnostic("fine-tuning diverged (loss \(outputs[0].scalars[0])) at epoch \(epoch + 1); lower the learning rate")
                }
            }
            progress("fine-tune epoch \(epoch + 1)/\(epochs)")
        }
        let tuned = step.variables
        try extractor.load(tuned)
        return LinearProbe.accuracy(try extractor.features(of: test), test.labels, tuned["online.classifier.weight"]!.scalars, tuned["online.classifier.bias"]!.scalars,
                                    dimension: config.featureSize, classes: train.classes)
    }
}
