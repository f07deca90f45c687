// BYOL: Bootstrap Your Own Latent (Grill et al., 2020), declared once for both views.

import GraftDSL
import GraftPasses

/// Sizes and variant of a BYOL model.
public struct BYOLConfig: Sendable, Hashable {
    public var encoder: ResNetConfig
    /// Hidden width of the projector and predictor MLPs.
    public var hiddenSize: Int
    /// Size of the projection z and prediction p.
    public var projectionSize: Int
    /// Whether the online network has a predictor q (the paper's ablation removes it).
    public var usesPredictor: Bool = true
    /// Image height and width.
    public var imageSize: Int = 28

    /// byol-s: ResNet-S, heads 128 → 512 → 128.
    public static let small = BYOLConfig(encoder: .small, hiddenSize: 512, projectionSize: 128)
    /// byol-t: ResNet-T, heads 64 → 256 → 64.
    public static let tiny = BYOLConfig(encoder: .tiny, hiddenSize: 256, projectionSize: 64)
    /// byol-t256: ResNet-T256, heads 256 → 512 → 128.
    public static let tiny256 = BYOLConfig(encoder: .tiny256, hiddenSize: 512, projectionSize: 128)
    /// byol-t512: ResNet-T512, heads 512 → 1024 → 128.
    public static let tiny512 = BYOLConfig(encoder: .tiny512, hiddenSize: 1024, projectionSize: 128)
}

/// BYOL around any encoder: the user's network f, BYOL's projector g and predictor q, the
/// symmetric loss, and the rewrites (target network by EMA, LARS) that make its step.
///
/// ```swift
/// let byol = BYOLModel(imageShape: [1, 28, 28], hiddenSize: 256, projectionSize: 64) { scope in
///     MyEncoder(scope)            // any Layer mapping [B, C, H, W] images to [B, D] features
/// }
/// let traced = try byol.trace(batchSize: 128, seed: 1)
/// ```
/// The encoder's params live under `online.encoder.*` (the target's under
/// `target.encoder.*` after `MakeTarget`), so `encoderTrace` and evaluation find them.
public struct BYOLModel: Sendable {
    /// Declares the encoder's params under the scope it is given and returns it.
    public var encoder: @Sendable (Scope) -> any Layer
    /// Channels, height and width of an image.
    public var imageShape: [Int]
    /// Hidden width of the projector and predictor MLPs.
    public var hiddenSize: Int
    /// Size of the projection z and prediction p.
    public var projectionSize: Int
    /// Whether the online network has a predictor q (the paper's ablation removes it).
    public var usesPredictor: Bool
    /// The encoder's feature size D; nil: read from the encoder's output when tracing.
    public var featureSize: Int?

    public init(imageShape: [Int], hiddenSize: Int = 256, projectionSize: Int = 64, usesPredictor: Bool = true,
                featureSize: Int? = nil, encoder: @escaping @Sendable (Scope) -> any Layer) {
        self.encoder = encoder
        self.imageShape = imageShape
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.usesPredictor = usesPredictor
        self.featureSize = featureSize
    }

    /// BYOL's forward pass, declared once: both views through the online network, and the
    /// symmetric loss `L = mean ‖p̂(v) − ẑ′(v′)‖² + mean ‖p̂(v′) − ẑ′(v)‖²`.
    ///
    /// The target projections ẑ′ are declared as `stopGradient` of the online projections:
    /// as written, this is BYOL's τ = 0 ablation. The `MakeTarget` rewrite turns each of them
    /// into a separate target network (`target.*` state, its own BatchNorm statistics) and
    /// `EMAUpdate` makes it follow the online one, so the user never writes the target. Each
    /// view passes through the network on its own, so BatchNorm statistics are per view.
    ///
    /// Inputs `%view1`, `%view2` (`f32[B, C, H, W]`); outputs the scalar loss and the collapse
    /// monitor (the spread of the normalised projections, 0 when collapsed).
    public func trace(batchSize: Int, seed: UInt64 = 0, name: String = "byol") throws -> TracedGraph {
        try GraftDSL.trace(name, seed: seed) { g in
            let shape = [batchSize] + imageShape
            let view1 = g.input("view1", shape: shape)
            let view2 = g.input("view2", shape: shape)
            let online = g.scope("online")
            let encoder = self.encoder(online("encoder"))
            var heads = featureSize.map { BYOLHeads(online, model: self, featureSize: $0) }
            let features1 = encoder(view1)
            guard features1.rank == 2 else {
                g.fail(Diagnostic("BYOL's encoder must map \(TensorType(.f32, shape)) images to features [B, D]; it gives \(features1.type). End it with a pooling layer or Flatten"))
                return []
            }
            if heads == nil { heads = BYOLHeads(online, model: self, featureSize: features1.shape[1]) }
            let (projection1, prediction1) = heads!(features1)
            let (projection2, prediction2) = heads!(encoder(view2))
            let target1 = stopGradient(projection1)
            let target2 = stopGradient(projection2)
            let loss = normalizedMSE(prediction1, target2) + normalizedMSE(prediction2, target1)
            return [loss, collapseMonitor(projection1)]
        }
    }

    /// The encoder alone in inference mode (BatchNorm uses its running statistics), for
    /// evaluation: input `%images` (`f32[B, C, H, W]`), output the features `f32[B, D]`, params
    /// and state named as in `trace`, so a trained step's values load into it by name.
    public func encoderTrace(batchSize: Int, name: String = "encoder") throws -> TracedGraph {
        try EncoderFeatures.trace(imageShape: imageShape, batchSize: batchSize, name: name, encoder: encoder)
    }

    /// The rewrites that make one training step: target network, gradients, LARS with BYOL's
    /// hyperparameters, EMA (per `target`), simplification.
    public func pipeline(target: TargetUpdate = .ema) -> TrainingPipeline { BYOL.pipeline(target: target) }
}

/// BYOL's projector g and (online only) predictor q.
struct BYOLHeads {
    let projector: MLP
    let predictor: MLP?

    init(_ scope: Scope, model: BYOLModel, featureSize: Int) {
        projector = MLP(scope("projector"), inputSize: featureSize, hiddenSize: model.hiddenSize, outputSize: model.projectionSize)
        predictor = model.usesPredictor
            ? MLP(scope("predictor"), inputSize: model.projectionSize, hiddenSize: model.hiddenSize, outputSize: model.projectionSize)
            : nil
    }

    /// The projection z = g(y) and, with a predictor, the prediction p = q(z) (else z).
    func callAsFunction(_ features: Tensor) -> (projection: Tensor, prediction: Tensor) {
        let projection = projector(features)
        return (projection, predictor.map { $0(projection) } ?? projection)
    }
}

/// The reference configurations: BYOL over a ResNet encoder.
public enum BYOL {
    /// Traces BYOL over `config`'s ResNet at `batchSize`: inputs `%view1`, `%view2`
    /// (`f32[B, C, H, W]`); outputs the scalar loss and the collapse monitor.
    public static func trace(_ config: BYOLConfig, batchSize: Int, seed: UInt64 = 0,
                             name: String = "byol") throws -> TracedGraph {
        try config.model.trace(batchSize: batchSize, seed: seed, name: name)
    }

    /// The rewrites that make one training step: target network, gradients, LARS with BYOL's
    /// hyperparameters, EMA (per `target`), simplification.
    public static func pipeline(target: TargetUpdate = .ema) -> TrainingPipeline {
        TrainingPipeline(target: target, optimizer: LARS(momentum: 0.9, trustCoefficient: 1e-3, weightDecay: 1.5e-6))
    }
}

extension BYOLConfig {
    /// This configuration as a `BYOLModel` over its ResNet.
    public var model: BYOLModel {
        let encoder = self.encoder
        return BYOLModel(imageShape: [encoder.inputChannels, imageSize, imageSize], hiddenSize: hiddenSize,
                         projectionSize: projectionSize, usesPredictor: usesPredictor, featureSize: encoder.featureSize) { scope in
            ResNet(scope, config: encoder)
        }
    }
}

/// The standard deviation over the batch of the L2-normalised projections, averaged over
/// their dimensions: about 1/√d for spread-out projections, 0 when the representation
/// collapses to a constant. Only output 0 (the loss) is differentiated, so this is a monitor
/// (and it must not use `stopGradient`, which `MakeTarget` reads as "this is the target").
func collapseMonitor(_ projection: Tensor) -> Tensor {
    let normalized = l2Normalize(projection)
    let centered = normalized - normalized.mean(axes: [0], keepDims: true)
    return sqrt((centered * centered).mean(axes: [0])).mean()
}

/// BYOL and the paper's ablations that change the graph.
public enum BYOLVariant: String, Sendable, CaseIterable {
    /// BYOL as published.
    case standard
    /// No predictor: the online projection is compared with the target's directly (collapses).
    case noPredictor = "no-predictor"
    /// τ = 0: the target is a stop-gradient copy of the online network (collapses).
    case tauZero = "tau0"
    /// τ = 1: the target keeps its random initialisation.
    case tauOne = "tau1"

    public func apply(to config: BYOLConfig) -> BYOLConfig {
        var config = config
        config.usesPredictor = self != .noPredictor
        return config
    }

    public var target: TargetUpdate {
        switch self {
        case .standard, .noPredictor: .ema
        case .tauZero: .stopGradientCopy
        case .tauOne: .frozen
        }
    }
}
