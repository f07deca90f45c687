// ModelCatalog: the declared models the command line knows by name.

import GraftDSL
import GraftPasses

/// A declared model: its name, what it is, how to trace it and how to make its training step.
public struct ModelEntry: Sendable {
    public var name: String
    public var summary: String
    public var defaultBatchSize: Int
    /// Traces the model's forward graph at a batch size with a seed.
    public var trace: @Sendable (_ batchSize: Int, _ seed: UInt64) throws -> TracedGraph
    /// The rewrites from the forward graph to one training step.
    public var pipeline: TrainingPipeline
    /// The encoder whose features evaluation measures.
    public var encoder: ResNetConfig
    /// Whether the model learns without labels (BYOL, SimCLR) or from them (supervised).
    public var isSelfSupervised: Bool
    /// Whether one step may run as replicas on shards of the batch with cross-replica
    /// statistics and still be the same step. False for a loss that compares every image
    /// with every other (SimCLR's NT-Xent): each shard would see only its own negatives.
    public var splitsAcrossReplicas = true

    /// The model's graph at `stage`; its initial values (including those of the variables the
    /// rewrites declared) are `graph.initialValues(seed: seed)`. `afterEachPass` sees the IR
    /// after every pass.
    public func compile(batchSize: Int? = nil, seed: UInt64 = 0, stage: PipelineStage,
                        afterEachPass: ((String, Graph) -> Void)? = nil) throws -> Graph {
        var graph = try trace(batchSize ?? defaultBatchSize, seed).graph
        try pipeline.run(&graph, until: stage, afterEachPass: afterEachPass)
        return graph
    }

    /// Refuses to split the model's step into `shards` replicas when it cannot be split.
    /// - Throws: a `Diagnostic` saying why and what to do instead.
    public func checkSplit(into shards: Int) throws {
        guard shards > 1, !splitsAcrossReplicas else { return }
        throw Diagnostic("\(name)'s loss compares every image of the batch with every other, so its step cannot be split into \(shards) replicas: each would see only its own shard's negatives",
                         notes: ["train or benchmark it as one process: without mpirun, and without --replicas"])
    }
}

/// Every declared model, by name.
public enum ModelCatalog {
    public static let all: [ModelEntry] = byol("s", .small, batch: 256, "ResNet-S encoder (32/64/128), heads 128→512→128")
        + byol("t", .tiny, batch: 128, "ResNet-T encoder (16/32/64), heads 64→256→64")
        + byol("t256", .tiny256, batch: 128, "ResNet-T encoder with a 1×1 expansion to 256 channels, heads 256→512→128", variants: [.standard])
        + byol("t512", .tiny512, batch: 128, "ResNet-T encoder with a 1×1 expansion to 512 channels, heads 512→1024→128", variants: [.standard])
        + [simclr("s", .small, batch: 256), simclr("t", .tiny, batch: 128)]
        + [supervised("s", .small, batch: 256), supervised("t", .tiny, batch: 128),
           supervised("t256", .tiny256, batch: 128), supervised("t512", .tiny512, batch: 128)]

    private static func byol(_ size: String, _ config: BYOLConfig, batch: Int, _ description: String,
                             variants: [BYOLVariant] = BYOLVariant.allCases) -> [ModelEntry] {
        variants.map { variant in
            let suffix = variant == .standard ? "" : "-\(variant.rawValue)"
            let summary: String
            switch variant {
            case .standard: summary = "BYOL, \(description)"
            case .noPredictor: summary = "ablation of byol-\(size): no predictor"
            case .tauZero: summary = "ablation of byol-\(size): τ = 0, target = stop-gradient copy of online"
            case .tauOne: summary = "ablation of byol-\(size): τ = 1, fixed random target"
            }
            let variantConfig = variant.apply(to: config)
            let graphName = "byol_\(size)" + suffix.replacingOccurrences(of: "-", with: "_")
            return ModelEntry(name: "byol-\(size)\(suffix)", summary: summary, defaultBatchSize: batch,
                              trace: { batch, seed in try BYOL.trace(variantConfig, batchSize: batch, seed: seed, name: graphName) },
                              pipeline: BYOL.pipeline(target: variant.target), encoder: config.encoder, isSelfSupervised: true)
        }
    }

    private static func simclr(_ size: String, _ config: BYOLConfig, batch: Int) -> ModelEntry {
        ModelEntry(name: "simclr-\(size)", summary: "SimCLR over byol-\(size)'s encoder and projector: NT-Xent (temperature 0.1), no target network",
                   defaultBatchSize: batch,
                   trace: { batch, seed in try SimCLR.trace(config, batchSize: batch, seed: seed, name: "simclr_\(size)") },
                   pipeline: SimCLR.pipeline(), encoder: config.encoder, isSelfSupervised: true, splitsAcrossReplicas: false)
    }

    private static func supervised(_ size: String, _ encoder: ResNetConfig, batch: Int) -> ModelEntry {
        ModelEntry(name: "supervised-\(size)", summary: "ResNet-\(size.uppercased()) encoder + linear classifier, softmax cross-entropy on labels",
                   defaultBatchSize: batch,
                   trace: { batch, seed in try SupervisedClassifier.trace(encoder, batchSize: batch, seed: seed, name: "supervised_\(size)") },
                   pipeline: SupervisedClassifier.pipeline(), encoder: encoder, isSelfSupervised: false)
    }

    /// The model called `name`, or nil.
    public static func model(named name: String) -> ModelEntry? {
        all.first { $0.name == name }
    }
}
