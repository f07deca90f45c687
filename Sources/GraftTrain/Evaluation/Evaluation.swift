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

    /// Fine-tunes the encoder (from `variables`) with each of `settings` on `split`'s labelled
    /// images of `train`, measures each on `split`'s held-out images and on `test`, and
    /// chooses the setting with the best held-out accuracy (`FineTuneSelection.choose`): the
    /// held-out protocol of Docs/Results.md. A setting whose loss diverges is reported, not
    /// chosen; a single setting is measured the same way, with nothing to choose.
    public static func fineTune(encoder config: ResNetConfig, variables: [String: HostTensor], train: Dataset, test: Dataset,
                                split: FineTuneSplit, settings: [FineTuneSetting], epochs: Int, seed: UInt64 = 0,
                                progress: (String) -> Void = { _ in }) throws -> FineTuneSelection {
        precondition(!settings.isEmpty, "fineTune: no settings to choose among")
        let tuner = try FineTuner(encoder: config, labelled: train.subset(split.labelled), classes: train.classes, epochs: epochs, seed: seed)
        let heldOut = train.subset(split.heldOut)
        let probe = try settings.contains { $0.head == .probe } ? tuner.probeHead(variables) : nil
        var outcomes: [FineTuneOutcome] = []
        for setting in settings {
            let name = "lr \(setting.learningRate), \(setting.head) head"
            var outcome = FineTuneOutcome(setting: setting, accuracy: nil)
            if let tuned = try tuner.tune(from: variables, setting, probe: probe, progress: { progress("\(name): \($0)") }) {
                outcome.accuracy = .init(heldOut: try tuner.accuracy(of: tuned, on: heldOut), test: try tuner.accuracy(of: tuned, on: test))
            }
            progress("\(name): held-out \(percent(outcome.accuracy?.heldOut)), test \(percent(outcome.accuracy?.test))")
            outcomes.append(outcome)
        }
        return try FineTuneSelection(candidates: outcomes, heldOutImages: split.heldOut.count, labelledImages: split.labelled.count)
    }

    /// `accuracy` as a percentage with two decimals, or "diverged".
    public static func percent(_ accuracy: Double?) -> String {
        accuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "diverged"
    }
}
