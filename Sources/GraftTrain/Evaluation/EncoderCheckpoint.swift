// EncoderCheckpoint: what `graft eval` and `graft export` need from a training checkpoint,
// checked whole: every tensor of the encoder, of the right type, and data the encoder takes.

import GraftIR
import GraftModels
import GraftData
import GraftCheckpoint

/// The online encoder stored in a training checkpoint.
public enum EncoderCheckpoint {
    /// Every param and BatchNorm statistic of `encoder` (`online.encoder.*`), read from
    /// `checkpoint`.
    /// - Throws: a `Diagnostic` naming the file and the missing or mis-shaped tensors: an
    ///   encoder with some tensors missing is refused, never filled with initial values.
    public static func variables(of checkpoint: Checkpoint, path: String, encoder: ResNetConfig, model: String) throws -> [String: HostTensor] {
        let expected = try EncoderFeatures.trace(encoder, batchSize: 1).graph
        var values: [String: HostTensor] = [:]
        var missing: [String] = []
        for name in expected.variables.keys.sorted() {
            guard checkpoint.tensors[name] != nil else { missing.append(name); continue }
            let value = try checkpoint.hostTensor(name, from: path)
            let declared = expected[expected.declaration(named: name)!].type
            guard value.type == declared else {
                throw Diagnostic("'\(path)' holds '\(name)' as \(value.type), but \(model)'s encoder declares it \(declared); the file was written by a model of another shape")
            }
            values[name] = value
        }
        guard missing.isEmpty else {
            let shown = missing.prefix(4).joined(separator: ", ") + (missing.count > 4 ? " and \(missing.count - 4) more" : "")
            throw Diagnostic("'\(path)' lacks \(missing.count) of the \(expected.variables.count) tensors of \(model)'s encoder: \(shown)",
                             notes: ["the checkpoint is incomplete (edited, or written by another version); use a whole checkpoint written by graft train"])
        }
        return values
    }

    /// Checks that `dataset` holds images `encoder` takes: its channels, square images of at
    /// least 8 pixels, at least one image.
    public static func checkData(_ dataset: Dataset, encoder: ResNetConfig, model: String) throws {
        guard dataset.count > 0 else {
            throw Diagnostic("\(dataset.name) holds no images; evaluation needs a training and a test set with images")
        }
        guard dataset.channels == encoder.inputChannels, dataset.height == dataset.width, dataset.height >= 8 else {
            throw Diagnostic("\(dataset.name) has \(dataset.channels)×\(dataset.height)×\(dataset.width) images, but \(model)'s encoder takes \(encoder.inputChannels)-channel square images (such as \(encoder.inputChannels)×28×28); pass --data with a dataset of that kind")
        }
    }
}
