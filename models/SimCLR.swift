// SimCLR (Chen et al., 2020): the contrastive method BYOL is compared with, over the same
// encoder and augmentations and without a target network.

import GraftDSL
import GraftPasses

/// SimCLR around any encoder: the user's network f, a projector g, and the NT-Xent loss over
/// the 2B views of a batch (each view's positive is the other view of its image, its
/// negatives the other 2B − 2 views).
///
/// ```swift
/// let simclr = SimCLRModel(imageShape: [1, 28, 28], hiddenSize: 256, projectionSize: 64) { scope in
///     MyEncoder(scope)            // any Layer mapping [B, C, H, W] images to [B, D] features
/// }
/// let traced = try simclr.trace(batchSize: 128, seed: 1)
/// ```
/// The encoder's params live under `online.encoder.*`, as in BYOL, so evaluation and the
/// kNN monitor read them the same way.
public struct SimCLRModel: Sendable {
    /// Declares the encoder's params under the scope it is given and returns it.
    public var encoder: @Sendable (Scope) -> any Layer
    /// Channels, height and width of an image.
    public var imageShape: [Int]
    /// Hidden width of the projector MLP.
    public var hiddenSize: Int
    /// Size of the projection z the loss compares.
    public var projectionSize: Int
    /// The softmax temperature of NT-Xent (SimCLR: 0.1 at large batches).
    public var temperature: Float

    public init(imageShape: [Int], hiddenSize: Int = 256, projectionSize: Int = 64, temperature: Float = 0.1,
                encoder: @escaping @Sendable (Scope) -> any Layer) {
        self.encoder = encoder
        self.imageShape = imageShape
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.temperature = temperature
    }

    /// SimCLR's forward pass: both views through the one network (BatchNorm statistics per
    /// view, as in BYOL), NT-Xent over their projections.
    ///
    /// Inputs `%view1`, `%view2` (`f32[B, C, H, W]`), as BYOL's, so the same data feeds both;
    /// outputs the scalar loss and the collapse monitor of the first view's projections.
    public func trace(batchSize: Int, seed: UInt64 = 0, name: String = "simclr") throws -> TracedGraph {
        try GraftDSL.trace(name, seed: seed) { g in
            let shape = [batchSize] + imageShape
            let view1 = g.input("view1", shape: shape)
            let view2 = g.input("view2", shape: shape)
            let online = g.scope("online")
            let encoder = self.encoder(online("encoder"))
            let features1 = encoder(view1)
            guard features1.rank == 2 else {
                g.fail(Diagnostic("SimCLR's encoder must map \(TensorType(.f32, shape)) images to features [B, D]; it gives \(features1.type). End it with a pooling layer or Flatten"))
                return []
            }
            let projector = MLP(online("projector"), inputSize: features1.shape[1], hiddenSize: hiddenSize, outputSize: projectionSize)
            let projection1 = projector(features1)
            let projection2 = projector(encoder(view2))
            return [ntXent(projection1, projection2, temperature: temperature), collapseMonitor(projection1)]
        }
    }

    /// The encoder alone in inference mode, named as in `trace` (see `BYOLModel.encoderTrace`).
    public func encoderTrace(batchSize: Int, name: String = "encoder") throws -> TracedGraph {
        try EncoderFeatures.trace(imageShape: imageShape, batchSize: batchSize, name: name, encoder: encoder)
    }

    /// The rewrites that make one training step (see `SimCLR.pipeline`).
    public func pipeline() -> TrainingPipeline { SimCLR.pipeline() }
}

/// The reference configurations: SimCLR over the ResNet encoders and head sizes of byol-s
/// and byol-t, so the two methods differ only in their objective.
public enum SimCLR {
    /// Traces SimCLR over `config`'s ResNet and projector (its predictor is not used).
    public static func trace(_ config: BYOLConfig, batchSize: Int, seed: UInt64 = 0, name: String = "simclr") throws -> TracedGraph {
        let encoder = config.encoder
        let model = SimCLRModel(imageShape: [encoder.inputChannels, config.imageSize, config.imageSize],
                                hiddenSize: config.hiddenSize, projectionSize: config.projectionSize) { scope in
            ResNet(scope, config: encoder)
        }
        return try model.trace(batchSize: batchSize, seed: seed, name: name)
    }

    /// Gradients, LARS with BYOL's hyperparameters (SimCLR's paper also trains with LARS),
    /// simplification; no target network.
    public static func pipeline() -> TrainingPipeline {
        TrainingPipeline(target: .none, optimizer: LARS(momentum: 0.9, trustCoefficient: 1e-3, weightDecay: 1.5e-6))
    }
}
