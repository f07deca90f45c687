// Supervised: the same encoder trained with labels, the baseline BYOL is measured against.

import GraftDSL
import GraftPasses

/// An encoder plus a linear classifier trained with softmax cross-entropy on labels.
public enum SupervisedClassifier {
    /// Traces one forward step: inputs `%images` (`f32[B, C, H, W]`) and `%labels`
    /// (`i32[B]`), output the mean cross-entropy loss.
    public static func trace(_ encoder: ResNetConfig, classes: Int = 10, imageSize: Int = 28, batchSize: Int,
                             seed: UInt64 = 0, name: String = "supervised") throws -> TracedGraph {
        try GraftDSL.trace(name, seed: seed) { g in
            let images = g.input("images", shape: [batchSize, encoder.inputChannels, imageSize, imageSize])
            let labels = g.input("labels", TensorType(.i32, [batchSize]))
            let network = ResNet(g.scope("online")("encoder"), config: encoder)
            let classifier = Linear(g.scope("online")("classifier"), inputSize: encoder.featureSize, outputSize: classes)
            let logits = classifier(network(images))
            return [softmaxCrossEntropy(logits: logits, labels: labels)]
        }
    }

    /// The rewrites that make one training step: gradients, SGD with Nesterov momentum 0.9 and
    /// weight decay 5e-4, simplification.
    public static func pipeline() -> TrainingPipeline {
        TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4))
    }
}
