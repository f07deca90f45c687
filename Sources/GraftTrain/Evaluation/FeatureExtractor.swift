// FeatureExtractor: representations y = f(x) of a whole dataset, from a compiled encoder.

import GraftIR
import GraftDSL
import GraftData
import GraftModels
import GraftRuntime

/// Computes the encoder's features of every image of a dataset, in inference mode.
public final class FeatureExtractor {
    public let executable: Executable
    public let batchSize: Int
    public let featureSize: Int

    /// Compiles an encoder traced in inference mode (`EncoderFeatures.trace`,
    /// `BYOLModel.encoderTrace`): one input, the images `f32[B, C, H, W]`, and output 0 its
    /// features `f32[B, D]`. The last batch of a dataset is zero-padded.
    public init(_ encoder: TracedGraph) throws {
        let graph = encoder.graph
        guard graph.inputs.count == 1, let output = graph.outputs.first, graph[graph.inputs[0]].type.rank == 4,
              graph[output].type.rank == 2, graph[output].type.shape[0] == graph[graph.inputs[0]].type.shape[0] else {
            throw Diagnostic("@\(graph.name) is not a feature encoder: it needs one input f32[B, C, H, W] and output 0 f32[B, D]")
        }
        executable = try Executable(graph)
        try executable.setVariables(encoder.initialValues)
        batchSize = graph[output].type.shape[0]
        featureSize = graph[output].type.shape[1]
    }

    /// The ResNet encoder of `encoder` at `batchSize`.
    public convenience init(encoder: ResNetConfig, imageSize: Int = 28, batchSize: Int = 500) throws {
        try self.init(EncoderFeatures.trace(encoder, imageSize: imageSize, batchSize: batchSize))
    }

    /// Loads the encoder's params and BatchNorm statistics from `variables` (by name; other
    /// names are ignored).
    public func load(_ variables: [String: HostTensor]) throws {
        try executable.setVariables(variables)
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
            let count = Swift.min(batchSize, dataset.count - start)
            var batch = [Float](repeating: 0, count: batchSize * imageSize)
            batch.replaceSubrange(0..<(count * imageSize), with: dataset.images[(start * imageSize)..<((start + count) * imageSize)])
            let output = try executable.run([inputName: HostTensor(inputType, batch)])[0]
            result.replaceSubrange((start * featureSize)..<((start + count) * featureSize), with: output.scalars[0..<(count * featureSize)])
            start += count
        }
        return result
    }
}
