// ModelCatalog: the declared models the command line knows by name.

import Graft

/// A declared model: its name, what it is, and how to trace it.
public struct ModelEntry: Sendable {
    public var name: String
    public var summary: String
    public var defaultBatchSize: Int
    /// Traces the model's forward graph at a batch size with a seed.
    public var trace: @Sendable (_ batchSize: Int, _ seed: UInt64) throws -> TracedGraph
}

/// Every declared model, by name.
public enum ModelCatalog {
    public static let all: [ModelEntry] = [
        ModelEntry(name: "byol-s", summary: "BYOL, ResNet-S encoder (32/64/128), heads 128→512→128; the reference model",
                   defaultBatchSize: 256) { batch, seed in
            try BYOL.trace(.small, batchSize: batch, seed: seed, name: "byol_s")
        },
        ModelEntry(name: "byol-t", summary: "BYOL, ResNet-T encoder (16/32/64), heads 64→256→64; for tests and demos",
                   defaultBatchSize: 128) { batch, seed in
            try BYOL.trace(.tiny, batchSize: batch, seed: seed, name: "byol_t")
        },
        ModelEntry(name: "supervised-s", summary: "ResNet-S encoder + linear classifier, softmax cross-entropy on labels",
                   defaultBatchSize: 256) { batch, seed in
            try SupervisedClassifier.trace(.small, batchSize: batch, seed: seed, name: "supervised_s")
        },
        ModelEntry(name: "supervised-t", summary: "ResNet-T encoder + linear classifier, softmax cross-entropy on labels",
                   defaultBatchSize: 128) { batch, seed in
            try SupervisedClassifier.trace(.tiny, batchSize: batch, seed: seed, name: "supervised_t")
        },
    ]

    /// The model called `name`, or nil.
    public static func model(named name: String) -> ModelEntry? {
        all.first { $0.name == name }
    }
}
