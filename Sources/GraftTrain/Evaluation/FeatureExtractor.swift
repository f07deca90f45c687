// FeatureExtractor: representations y = f(x) of a whole dataset, from a compiled encoder.

import GraftIR
import GraftData
import GraftModels
import GraftRuntime

/// Computes the encoder's features of every image of a dataset, in inference mode.
public final class FeatureExtractor {
    public let executable: Executable
    public let batchSize: Int
    public let featureSize: Int

    /// Compiles the encoder at `batchSize` (the last batch of a dataset is zero-padded).
    public init(encoder: ResNetConfig, imageSize: Int = 28, batchSize: Int = 500) throws {
        let traced = try EncoderFeatures.trace(encoder, imageSize: imageSize, batchSize: batchSize)
        executable = try Executable(traced.graph)
        try executable.setVariables(traced.initialValues)
        self.batchSize = batchSize
        featureSize = encoder.featureSize
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
        guard inputType.elementCount == batchSize * imageSize else {
            throw Diagnostic("the encoder expects \(inputType) images but \(dataset.name) has \(dataset.channels)×\(dataset.height)×\(dataset.width) images")
        }
        var result = [Float](repeating: 0, count: dataset.count * featureSize)
        var start = 0
        while start < dataset.count {
            let count = Swift.min(batchSize, dataset.count - start)
            var batch = [Float](repeating: 0, count: batchSize * imageSize)
            batch.replaceSubrange(0..<(count * imageSize), with: dataset.images[(start * imageSize)..<((start + count) * imageSize)])
            let output = try executable.run(["images": HostTensor(inputType, batch)])[0]
            result.replaceSubrange((start * featureSize)..<((start + count) * featureSize), with: output.scalars[0..<(count * featureSize)])
            start += count
        }
        return result
    }
}
