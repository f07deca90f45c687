// BYOL over your own encoder: Graft's BYOL declaration (projector, predictor, symmetric loss)
// and its rewrites (target network, EMA, LARS) around a small CNN written here, trained on
// Fashion-MNIST without labels, then measured by a linear probe beside the same encoder at
// its random initialisation.
//
//   swift run -c release byol-custom-encoder [--epochs 2] [--steps N] [--data DIR] [--out runs/byol-custom]

import Foundation
import Graft
import ExampleSupport

/// Three conv3×3–BatchNorm–ReLU stages (32, 64, 128 channels), max-pooling between them, and
/// global average pooling: `[B, 1, 28, 28]` → `[B, 128]`.
struct SmallCNN: Layer {
    let convs: [Conv2D]
    let norms: [BatchNorm]
    let pool = MaxPool2D(kernelSize: 2)

    init(_ scope: Scope) {
        let widths = [1, 32, 64, 128]
        convs = (0..<3).map { Conv2D(scope("conv\($0 + 1)"), inputChannels: widths[$0], outputChannels: widths[$0 + 1], kernelSize: 3, padding: 1) }
        norms = (0..<3).map { BatchNorm(scope("bn\($0 + 1)"), features: widths[$0 + 1]) }
    }

    func forward(_ x: Tensor) -> Tensor {
        var h = x
        for index in 0..<3 {
            h = relu(norms[index](convs[index](h)))
            if index < 2 { h = pool(h) }
        }
        return GlobalAveragePool()(h)
    }
}

runExample {
    let options = ExampleOptions(defaultEpochs: 2, defaultOut: "runs/byol-custom")
    let (train, test) = try options.datasets()
    let batchSize = 128

    let byol = BYOLModel(imageShape: [1, 28, 28], hiddenSize: 256, projectionSize: 64) { SmallCNN($0) }
    var view1 = Augmentation.byolT, view2 = Augmentation.byolTPrime
    view1.cropScale = 0.25...1
    view2.cropScale = 0.25...1
    let data = try Batches(train, batchSize: batchSize, content: .views("view1", "view2", BYOLAugmentation(view1: view1, view2: view2)),
                           seed: options.seed)
    let totalSteps = options.epochs * data.stepsPerEpoch
    let step = try TrainingStep(try byol.trace(batchSize: batchSize, seed: options.seed), pipeline: byol.pipeline(),
                                learningRate: LearningRateSchedule(base: 2.0, warmupSteps: data.stepsPerEpoch / 2, totalSteps: totalSteps),
                                tau: TargetDecaySchedule(base: 0.99, totalSteps: totalSteps))

    // Linear probe on the encoder's features (trained on the training set, measured on the test set).
    let encoder = try FeatureExtractor(byol.encoderTrace(batchSize: 500))
    func probeAccuracy(_ variables: [String: HostTensor]) throws -> Double {
        try encoder.load(variables)
        let trainFeatures = try encoder.features(of: train), testFeatures = try encoder.features(of: test)
        let accuracy = try LinearProbe(epochs: 10).evaluate(train: trainFeatures, trainLabels: train.labels, test: testFeatures,
                                                            testLabels: test.labels, dimension: encoder.featureSize, classes: train.classes)
        return accuracy.test
    }
    let random = try probeAccuracy(step.variables)
    print(String(format: "byol-custom-encoder: linear probe of the random-init encoder %.2f%%", random * 100))

    try options.dumpIR(of: step)
    let loop = try TrainingLoop(step: step, data: data, epochs: options.epochs, outputDirectory: options.out, outputNames: ["loss", "z_std"])
    try loop.run(stopAt: options.steps)
    let trained = try probeAccuracy(step.variables)
    print(String(format: "linear probe %.2f%% after BYOL (random-init encoder %.2f%%, %+.2f points)", trained * 100, random * 100, (trained - random) * 100))
}
