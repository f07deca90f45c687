// TrainingCheckpoint: what a training checkpoint holds and how a run is restored from it.

import Foundation
import GraftIR
import GraftRuntime
import GraftCheckpoint

/// A training checkpoint: every param, state and optimizer buffer of the step (f32 tensors by
/// name), the optimizer step (`graft.step`, u64) and the run's options as JSON metadata. The
/// data order and augmentations are functions of (seed, epoch, image, view), so the seed and
/// the step are the whole RNG state.
public enum TrainingCheckpoint {
    public static let stepKey = "graft.step"

    /// Writes the step's variables and position to `path`, atomically.
    public static func write(_ executable: Executable, options: TrainingOptions, step: Int, to path: String) throws {
        var tensors: [String: CheckpointTensor] = [:]
        for (name, value) in executable.variables { tensors[name] = CheckpointTensor(value) }
        tensors[stepKey] = CheckpointTensor(shape: [1], [UInt64(step)])
        let optionsJSON = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        let checkpoint = Checkpoint(tensors: tensors, metadata: [
            "format": "graft-training-checkpoint-1", "model": options.model, "step": String(step),
            "seed": String(options.seed), "options": optionsJSON,
        ])
        try checkpoint.write(to: path)
    }

    /// The options of the run a checkpoint belongs to.
    public static func options(of checkpoint: Checkpoint, path: String) throws -> TrainingOptions {
        guard checkpoint.metadata["format"] == "graft-training-checkpoint-1", let json = checkpoint.metadata["options"],
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8)) else {
            throw Diagnostic("'\(path)' is a safetensors file but not a Graft training checkpoint (no graft-training-checkpoint-1 metadata); pass a checkpoint.safetensors written by graft train")
        }
        return options
    }

    /// Loads every variable of `executable` from the checkpoint and returns the step to
    /// continue from.
    public static func restore(_ checkpoint: Checkpoint, into executable: Executable, path: String) throws -> Int {
        for name in executable.variableNames {
            guard checkpoint.tensors[name] != nil else {
                throw Diagnostic("'\(path)' has no tensor '\(name)', which the model needs; it was written by a different model or version")
            }
            try executable.setVariable(name, try checkpoint.hostTensor(name))
        }
        guard let step = try checkpoint.values(stepKey, as: UInt64.self).first else {
            throw Diagnostic("'\(path)' has no '\(stepKey)' tensor; it is not a complete training checkpoint")
        }
        return Int(step)
    }
}

extension TrainingOptions {
    func with(outputDirectory: String) -> TrainingOptions {
        var copy = self
        copy.outputDirectory = outputDirectory
        return copy
    }
}
