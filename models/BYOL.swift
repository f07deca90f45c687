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
}

/// Encoder f, projector g and (online only) predictor q.
public struct BYOLNetwork {
    public let encoder: ResNet
    public let projector: MLP
    public let predictor: MLP?

    /// Declares the network's params under `scope` (`online` or `target`).
    public init(_ scope: Scope, config: BYOLConfig, withPredictor: Bool) {
        encoder = ResNet(scope("encoder"), config: config.encoder)
        projector = MLP(scope("projector"), inputSize: config.encoder.featureSize,
                        hiddenSize: config.hiddenSize, outputSize: config.projectionSize)
        predictor = withPredictor
            ? MLP(scope("predictor"), inputSize: config.projectionSize, hiddenSize: config.hiddenSize,
                  outputSize: config.projectionSize)
            : nil
    }

    /// The projection z = g(f(view)) and, with a predictor, the prediction p = q(z) (else z).
    public func callAsFunction(_ view: Tensor) -> (projection: Tensor, prediction: Tensor) {
        let projection = projector(encoder(view))
        return (projection, predictor.map { $0(projection) } ?? projection)
    }
}

/// BYOL's forward pass, declared once: both views through the online network, and the
/// symmetric loss `L = mean ‖p̂(v) − ẑ′(v′)‖² + mean ‖p̂(v′) − ẑ′(v)‖²`.
///
/// The target projections ẑ′ are declared as `stopGradient` of the online projections: as
/// written, this is BYOL's τ = 0 ablation. The `MakeTarget` rewrite turns each of them into
/// a separate target network (`target.*` state, its own BatchNorm statistics) and `EMAUpdate`
/// makes it follow the online one, so the user never writes the target. Each view passes
/// through each network on its own, so BatchNorm statistics are per view.
public enum BYOL {
    /// Traces BYOL's forward step at `batchSize`: inputs `%view1`, `%view2`
    /// (`f32[B, C, H, W]`); outputs the scalar loss and the collapse monitor.
    public static func trace(_ config: BYOLConfig, batchSize: Int, seed: UInt64 = 0,
                             name: String = "byol") throws -> TracedGraph {
        try GraftDSL.trace(name, seed: seed) { g in
            let imageShape = [batchSize, config.encoder.inputChannels, config.imageSize, config.imageSize]
            let view1 = g.input("view1", shape: imageShape)
            let view2 = g.input("view2", shape: imageShape)
            let online = BYOLNetwork(g.scope("online"), config: config, withPredictor: config.usesPredictor)

            let (projection1, prediction1) = online(view1)
            let (projection2, prediction2) = online(view2)
            let target1 = stopGradient(projection1)
            let target2 = stopGradient(projection2)
            let loss = normalizedMSE(prediction1, target2) + normalizedMSE(prediction2, target1)
            return [loss, collapseMonitor(projection1)]
        }
    }

    /// The rewrites that make one training step: target network, gradients, LARS with BYOL's
    /// hyperparameters, EMA (per `target`), simplification.
    public static func pipeline(target: TargetUpdate = .ema) -> TrainingPipeline {
        TrainingPipeline(target: target, optimizer: LARS(momentum: 0.9, trustCoefficient: 1e-3, weightDecay: 1.5e-6))
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
