// An MLP autoencoder on Fashion-MNIST: images alone, no labels; trained with AdamW to
// reconstruct its input through a 32-number bottleneck.
//
//   swift run -c release autoencoder [--epochs 5] [--steps N] [--data DIR] [--out runs/autoencoder]
//
// Prints the test set's reconstruction loss before and after training, and their ratio.

import Foundation
import Graft
import ExampleSupport

/// 784 → 256 → 32 → 256 → 784, ReLU inside, a sigmoid on the reconstruction (pixels are in [0, 1]).
struct Autoencoder: Layer {
    let flatten = Flatten()
    let encode1, encode2, decode1, decode2: Linear

    init(_ scope: Scope) {
        encode1 = Linear(scope("encoder")("fc1"), inputSize: 784, outputSize: 256)
        encode2 = Linear(scope("encoder")("fc2"), inputSize: 256, outputSize: 32)
        decode1 = Linear(scope("decoder")("fc1"), inputSize: 32, outputSize: 256)
        decode2 = Linear(scope("decoder")("fc2"), inputSize: 256, outputSize: 784)
    }

    /// The reconstruction of `x` (`[B, 1, 28, 28]`) as `[B, 784]`.
    func forward(_ x: Tensor) -> Tensor {
        let code = encode2(relu(encode1(flatten(x))))
        return sigmoid(decode2(relu(decode1(code))))
    }
}

runExample {
    let options = ExampleOptions(defaultEpochs: 5, defaultOut: "runs/autoencoder")
    let (train, test) = try options.datasets()
    let batchSize = 128

    let model = try trace("autoencoder", seed: options.seed) { g in
        let images = g.input("images", shape: [batchSize, 1, 28, 28])
        let reconstruction = Autoencoder(g.scope("autoencoder"))(images)
        let difference = reconstruction - Flatten()(images)
        return [(difference * difference).mean()]
    }
    let data = try Batches(train, batchSize: batchSize, content: .images(), seed: options.seed)
    let step = try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: AdamW(weightDecay: 1e-4)),
                                learningRate: LearningRateSchedule(base: 2e-3, warmupSteps: 100, totalSteps: options.epochs * data.stepsPerEpoch))

    // The reconstruction alone, for the test set: its mean squared error over every pixel.
    let reconstruct = try FeatureExtractor(try trace("autoencoder_inference", training: false) { g in
        [Autoencoder(g.scope("autoencoder"))(g.input("images", shape: [1000, 1, 28, 28]))]
    })
    func testLoss() throws -> Double {
        try reconstruct.load(step.variables)
        let output = try reconstruct.features(of: test)
        var sum = 0.0
        for (a, b) in zip(output, test.images) { sum += Double(a - b) * Double(a - b) }
        return sum / Double(test.images.count)
    }

    let before = try testLoss()
    print(String(format: "autoencoder: test reconstruction loss %.5f before training", before))
    try options.dumpIR(of: step)
    let loop = try TrainingLoop(step: step, data: data, epochs: options.epochs, outputDirectory: options.out)
    loop.epochEnd = { _ in ["test_loss": try testLoss()] }
    try loop.run(stopAt: options.steps)
    let after = try testLoss()
    print(String(format: "test reconstruction loss %.5f (%.2f× lower than before training)", after, before / after))
}
