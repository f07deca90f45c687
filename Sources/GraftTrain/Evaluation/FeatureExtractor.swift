// FeatureExtractor: representations y = f(x) of a whole dataset, from a compiled encoder.

import GraftIR
import GraftDSL
import GraftData
import GraftModels
import GraftRuntime

/// Computes the encoder's features of every image of a dataset, in inference mode.
///
/// The encoder is compiled once per thread, each copy with one worker, and each copy encodes
/// whole batches of its own, so the cores never wait for each other inside a batch (as the
/// training step's replicas do, `LocalReplicas`); the features are the same for any number of
/// threads.
public final class FeatureExtractor {
    /// One compiled copy of the encoder per thread.
    public let replicas: LocalReplicas
    public let batchSize: Int
    public let featureSize: Int

    /// The first copy of the compiled encoder.
    public var executable: Executable { replicas.executables[0] }

    /// Compiles an encoder traced in inference mode (`EncoderFeatures.trace`,
    /// `BYOLModel.encoderTrace`): one input, the images `f32[B, C, H, W]`, and output 0 its
    /// features `f32[B, D]`. The last batches of a dataset are zero-padded.
    /// - Parameter threads: copies of the encoder, each encoding its own batches on a thread.
    public init(_ encoder: TracedGraph, threads: Int = 2) throws {
        let graph = encoder.graph
        guard graph.inputs.count == 1, let output = graph.outputs.first, graph[graph.inputs[0]].type.rank == 4,
              graph[output].type.rank == 2, graph[output].type.shape[0] == graph[graph.inputs[0]].type.shape[0] else {
            throw Diagnostic("@\(graph.name) is not a feature encoder: it needs one input f32[B, C, H, W] and output 0 f32[B, D]")
        }
        replicas = try LocalReplicas(graph, replicas: Swift.max(1, threads))
        for executable in replicas.executables { try executable.setVariables(encoder.initialValues) }
        batchSize = graph[output].type.shape[0]
        featureSize = graph[output].type.shape[1]
    }

    /// The ResNet encoder of `encoder` at `batchSize` images per copy. The default, 64, keeps
    /// each copy's activations in its core's caches (one ResNet-T activation of 500 images is
    /// 25 MB): the kNN monitor of `graft train` encoded ~20% faster than at 500
    /// (Docs/Performance.md, row 22). The features do not depend on the batch size.
    public convenience init(encoder: ResNetConfig, imageSize: Int = 28, batchSize: Int = 64, threads: Int = 2) throws {
        try self.init(EncoderFeatures.trace(encoder, imageSize: imageSize, batchSize: batchSize), threads: threads)
    }

    /// Loads the encoder's params and BatchNorm statistics from `variables` (by name; other
    /// names are ignored).
    public func load(_ variables: [String: HostTensor]) throws {
        for executable in replicas.executables { try executable.setVariables(variables) }
    }

    /// Features of every image, `[N, D]` row-major.
    public func features(of dataset: Dataset) throws -> [Float] {
        let imageSize = dataset.channels * dataset.height * dataset.width
        let inputType = executable.graph[executable.graph.inputs[0]].type
        guard case .input(let inputName) = executable.graph[executable.graph.inputs[0]].op else { return [] }
        guard inputType.elementCount == batchSize * imageSize else {
            throw Diagnostic("the encoder expects \(inputType) images but \(dataset.name) has \(dataset.channels)×\(dataset.height)×\(dataset.width) images")
        }
        var result = [Float](repeating: 0, count: dataset.count * featureSize)
        var start = 0
        while start < dataset.count {
            // One batch per copy of the encoder: images start + r·batchSize ..< start + (r+1)·batchSize.
            let images = replicas.executables.indices.map { replica in
                let first = Swift.min(start + replica * batchSize, dataset.count)
                return first..<Swift.min(first + batchSize, dataset.count)
            }
            let shards = images.map { range -> [String: HostTensor] in
                var batch = [Float](repeating: 0, count: batchSize * imageSize)
                batch.replaceSubrange(0..<(range.count * imageSize), with: dataset.images[(range.lowerBound * imageSize)..<(range.upperBound * imageSize)])
                return [inputName: HostTensor(inputType, batch)]
            }
            for (range, outputs) in zip(images, try replicas.run(shards)) {
                result.replaceSubrange((range.lowerBound * featureSize)..<(range.upperBound * featureSize),
                                       with: outputs[0].scalars[0..<(range.count * featureSize)])
            }
            start += batchSize * replicas.executables.count
        }
        return result
    }
}
