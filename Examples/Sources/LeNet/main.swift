// LeNet-5 on Fashion-MNIST: a classifier written in Graft's DSL, compiled into one training
// step, trained with SGD, its inference graph evaluated on the test set.
//
//   swift run -c release lenet [--epochs 12] [--steps N] [--data DIR] [--out runs/lenet]
//
// Prints `test accuracy NN.NN%`.

import Foundation
import Graft
import ExampleSupport

/// LeNet-5 (LeCun et al., 1998) with ReLU and max-pooling: 28×28 → conv5×5 (6, padded) →
/// pool → conv5×5 (16) → pool → 120 → 84 → 10 logits.
struct LeNet: Layer {
    let conv1, conv2: Conv2D
    let fc1, fc2, fc3: Linear
    let pool = MaxPool2D(kernelSize: 2)
    let flatten = Flatten()

    init(_ scope: Scope) {
        conv1 = Conv2D(scope("conv1"), inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2)
        conv2 = Conv2D(scope("conv2"), inputChannels: 6, outputChannels: 16, kernelSize: 5)
        fc1 = Linear(scope("fc1"), inputSize: 16 * 5 * 5, outputSize: 120)
        fc2 = Linear(scope("fc2"), inputSize: 120, outputSize: 84)
        fc3 = Linear(scope("fc3"), inputSize: 84, outputSize: 10)
    }

    func forward(_ x: Tensor) -> Tensor {
        let features = flatten(pool(relu(conv2(pool(relu(conv1(x)))))))
        return fc3(relu(fc2(relu(fc1(features)))))
    }
}

runExample {
    let options = ExampleOptions(defaultEpochs: 12, defaultOut: "runs/lenet")
    let (train, test) = try options.datasets()
    let batchSize = 64

    // The forward graph: output 0 is the loss the step differentiates.
    let model = try trace("lenet", seed: options.seed) { g in
        let images = g.input("images", shape: [batchSize, 1, 28, 28])
        let labels = g.input("labels", TensorType(.i32, [batchSize]))
        let logits = LeNet(g.scope("lenet"))(images)
        return [crossEntropy(logits: logits, labels: labels)]
    }
    let data = try Batches(train, batchSize: batchSize, content: .labeledImages(), seed: options.seed)
    let totalSteps = options.epochs * data.stepsPerEpoch
    let step = try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)),
                                learningRate: LearningRateSchedule(base: 0.05, warmupSteps: data.stepsPerEpoch / 2, totalSteps: totalSteps))
    print("lenet: \(train.count) training images, batch \(batchSize), \(options.epochs) epochs; step compiled in \(String(format: "%.2f", step.executable.compileSeconds)) s")

    // The same network in inference mode, at a larger batch, for the test set.
    let inference = try trace("lenet_inference", training: false) { g in
        [LeNet(g.scope("lenet"))(g.input("images", shape: [1000, 1, 28, 28]))]
    }
    let classifier = try FeatureExtractor(inference)
    func testAccuracy() throws -> Double {
        try classifier.load(step.variables)
        return Evaluation.accuracy(logits: try classifier.features(of: test), labels: test.labels, classes: test.classes)
    }

    try options.dumpIR(of: step)
    let loop = try TrainingLoop(step: step, data: data, epochs: options.epochs, outputDirectory: options.out)
    loop.epochEnd = { _ in ["test_accuracy": try testAccuracy()] }
    try loop.run(stopAt: options.steps)
    print(String(format: "test accuracy %.2f%%", try testAccuracy() * 100))
}
