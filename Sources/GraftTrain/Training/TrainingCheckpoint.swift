// TrainingCheckpoint: the run's options stored in a training checkpoint, so `graft train
// --resume`, `graft eval` and `graft export` know what the checkpoint belongs to.

import Foundation
import GraftIR
import GraftCheckpoint
import GraftModels

/// A `graft train` checkpoint is a `TrainingStep` checkpoint (every param, state and
/// optimizer buffer, and the optimizer step `graft.step`) whose metadata also holds the run's
/// options as JSON. The data order and augmentations are functions of (seed, epoch, image,
/// view), so the seed and the step are the whole RNG state.
public enum TrainingCheckpoint {
    /// The metadata `graft train` adds to its checkpoints.
    /// The options are JSON with sorted keys, so the same run writes the same bytes.
    public static func metadata(_ options: TrainingOptions) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ["options": String(decoding: try encoder.encode(options), as: UTF8.self), "seed": String(options.seed)]
    }

    /// The options of the run a checkpoint belongs to, checked by the rules of the flags
    /// (`TrainingOptions.problem`).
    public static func options(of checkpoint: Checkpoint, path: String) throws -> TrainingOptions {
        guard checkpoint.metadata["format"] == TrainingStep.checkpointFormat, let json = checkpoint.metadata["options"],
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8)) else {
            throw Diagnostic("'\(path)' is a safetensors file but not a checkpoint of graft train (no \(TrainingStep.checkpointFormat) metadata with the run's options); pass a checkpoint.safetensors written by graft train")
        }
        guard ModelCatalog.model(named: options.model) != nil else {
            throw Diagnostic("'\(path)' was trained as '\(options.model)', which this graft does not declare (see `graft models`)",
                             notes: ["it was written by another version of graft, or edited"])
        }
        if let problem = options.problem {
            throw Diagnostic("'\(path)': the run's options stored in it are invalid: \(problem)",
                             notes: ["the file was edited or damaged; use an intact checkpoint written by graft train"])
        }
        return options
    }
}

extension TrainingOptions {
    func with(outputDirectory: String) -> TrainingOptions {
        var copy = self
        copy.outputDirectory = outputDirectory
        return copy
    }
}
