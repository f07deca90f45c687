// FineTuner: one fine-tuning run of an encoder and a linear classifier on labelled images,
// compiled once and run for as many settings as the held-out protocol tries.

import GraftIR
import GraftDSL
import GraftPasses
import GraftRuntime
import GraftModels
import GraftData

/// Fine-tunes the encoder and a linear classifier on a labelled set with SGD (Nesterov
/// momentum 0.9, weight decay 5e-4, cosine learning rate, crop-and-flip augmentation), and
/// measures the result with the encoder in inference mode.
///
/// ```swift
/// let tuner = try FineTuner(encoder: config, labelled: train.subset(split.labelled), classes: 10, epochs: 20)
/// if let tuned = try tuner.tune(from: variables, FineTuneSetting(learningRate: 0.03, head: .probe)) {
///     let accuracy = try tuner.accuracy(of: tuned, on: test)
/// }
/// ```
public final class FineTuner {
    public let encoder: ResNetConfig
    public let labelled: Dataset
    public let classes: Int
    public let epochs: Int
    public let seed: UInt64
    let step: Executable
    let extractor: FeatureExtractor

    /// Compiles the training step (batches of `batchSize`, or the whole set when smaller)
    /// and the inference-mode encoder.
    public init(encoder: ResNetConfig, labelled: Dataset, classes: Int, epochs: Int, batchSize: Int = 128, seed: UInt64 = 0) throws {
        self.encoder = encoder
        self.labelled = labelled
        self.classes = classes
        self.epochs = epochs
        self.seed = seed
        let traced = try SupervisedClassifier.trace(encoder, classes: classes, imageSize: labelled.height,
                                                    batchSize: Swift.min(batchSize, labelled.count), seed: seed)
        var graph = traced.graph
        try SupervisedClassifier.pipeline().run(&graph, until: .optimized)
        step = try Executable(graph)
        extractor = try FeatureExtractor(encoder: encoder, imageSize: labelled.height)
    }

    /// The linear probe of the labelled images' features under `variables`' encoder, as the
    /// classifier's variables: the `.probe` head.
    public func probeHead(_ variables: [String: HostTensor]) throws -> [String: HostTensor] {
        try extractor.load(variables)
        let (weight, bias) = try LinearProbe(seed: seed).fit(try extractor.features(of: labelled), labelled.labels,
                                                            dimension: encoder.featureSize, classes: classes)
        return ["online.classifier.weight": HostTensor(shape: [classes, encoder.featureSize], weight),
                "online.classifier.bias": HostTensor(shape: [classes], bias)]
    }

    /// Fine-tunes from the encoder in `variables` (names `online.encoder.*`; others are
    /// ignored) with `setting`, and returns the tuned encoder and classifier, or nil when the
    /// loss stopped being finite. A `.probe` head is `probe`, or computed by `probeHead`.
    public func tune(from variables: [String: HostTensor], _ setting: FineTuneSetting, probe: [String: HostTensor]? = nil,
                     progress: (String) -> Void = { _ in }) throws -> [String: HostTensor]? {
        try step.setVariables(step.graph.initialValues(seed: seed))   // the classifier and the optimizer's momenta
        try step.setVariables(variables.filter { $0.key.hasPrefix("online.encoder.") })
        if setting.head == .probe { try step.setVariables(try probe ?? probeHead(variables)) }

        var augmentation = Augmentation()   // crop and flip only
        augmentation.cropScale = 0.5...1
        augmentation.jitterProbability = 0
        augmentation.grayscaleProbability = 0
        augmentation.blurProbability = 0
        augmentation.solarizeProbability = 0
        let views = BYOLAugmentation(view1: augmentation, view2: augmentation)
        let batch = step.graph[step.graph.inputs[0]].type.shape[0]
        let batcher = Batcher(count: labelled.count, batchSize: batch, seed: seed)
        let schedule = LearningRateSchedule(base: setting.learningRate, warmupSteps: 0, totalSteps: Swift.max(1, epochs * batcher.stepsPerEpoch))
        var stepIndex = 0
        for epoch in 0..<epochs {
            for indices in batcher.batches(epoch: epoch) {
                let (images, _) = views.twoViews(of: labelled, indices: indices, epoch: epoch, seed: seed)
                let outputs = try step.run([
                    "images": HostTensor(step.graph[step.graph.inputs[0]].type, images),
                    "labels": HostTensor(TensorType(.i32, [batch]), indices.map { Float(labelled.labels[$0]) }),
                    "learning_rate": HostTensor(scalar: Float(schedule.value(atStep: stepIndex))),
                ])
                stepIndex += 1
                guard outputs[0].scalars[0].isFinite else {
                    progress("fine-tuning diverged (loss \(outputs[0].scalars[0])) at epoch \(epoch + 1)")
                    return nil
                }
            }
            progress("fine-tune epoch \(epoch + 1)/\(epochs)")
        }
        return step.variables
    }

    /// The accuracy on `dataset` of `tuned`'s encoder (in inference mode) and classifier.
    public func accuracy(of tuned: [String: HostTensor], on dataset: Dataset) throws -> Double {
        try extractor.load(tuned)
        return LinearProbe.accuracy(try extractor.features(of: dataset), dataset.labels, tuned["online.classifier.weight"]!.scalars,
                                    tuned["online.classifier.bias"]!.scalars, dimension: encoder.featureSize, classes: classes)
    }
}
