// BYOL: Bootstrap Your Own Latent (Grill et al., 2020), declared once for both views.

import Graft

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

/// BYOL's forward pass: both views through the online network and through the target
/// network, and the symmetric loss
/// `L = mean ‖p̂(v) − ẑ′(v′)‖² + mean ‖p̂(v′) − ẑ′(v)‖²` with stop-gradient on the targets.
///
/// The target here is a second copy of the encoder and projector with its own params under
/// `target.*`; each view passes through each network on its own, so BatchNorm statistics are
/// per view.
public enum BYOL {
    /// Traces one BYOL forward step at `batchSize`: inputs `%view1`, `%view2`
    /// (`f32[B, C, H, W]`), output the scalar loss.
    public static func trace(_ config: BYOLConfig, batchSize: Int, seed: UInt64 = 0,
                             name: String = "byol") throws -> TracedGraph {
        try Graft.trace(name, seed: seed) { g in
            let imageShape = [batchSize, config.encoder.inputChannels, config.imageSize, config.imageSize]
            let view1 = g.input("view1", shape: imageShape)
            let view2 = g.input("view2", shape: imageShape)
            let online = BYOLNetwork(g.scope("online"), config: config, withPredictor: config.usesPredictor)
            let target = BYOLNetwork(g.scope("target"), config: config, withPredictor: false)

            let online1 = online(view1)
            let online2 = online(view2)
            let target1 = stopGradient(target(view1).projection)
            let target2 = stopGradient(target(view2).projection)
            let loss = normalizedMSE(online1.prediction, target2) + normalizedMSE(online2.prediction, target1)
            return [loss]
        }
    }
}
