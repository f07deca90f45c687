// ExportCommand: `graft export <checkpoint> -o encoder.safetensors` writes the encoder alone.

import Graft
import ArgumentParser
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained model's online encoder (params and BatchNorm statistics) as safetensors.",
        discussion: "Tensor names drop the `online.` prefix (`encoder.stem.conv.weight`); layouts are PyTorch's (OIHW filters).")

    @Argument(help: "A checkpoint written by graft train.") var checkpoint: String
    @Option(name: .shortAndLong, help: "The file to write.") var output: String

    func validate() throws {
        try validateWritableFile(output, flag: "--output")
        try validateDistinctOutput(output, flag: "--output", inputs: [checkpoint])
    }

    func run() throws {
        do {
            let file = try Checkpoint.read(from: checkpoint)
            let options = try TrainingCheckpoint.options(of: file, path: checkpoint)
            guard let entry = ModelCatalog.model(named: options.model) else {
                throw Diagnostic("'\(checkpoint)' was trained as '\(options.model)', which this graft does not declare")
            }
            // Every tensor of the encoder, or an error naming those missing.
            let variables = try EncoderCheckpoint.variables(of: file, path: checkpoint, encoder: entry.encoder, model: options.model)
            var tensors: [String: CheckpointTensor] = [:]
            for name in variables.keys { tensors[String(name.dropFirst("online.".count))] = file.tensors[name]! }
            try Checkpoint(tensors: tensors, metadata: ["format": "graft-encoder-1", "model": options.model,
                                                         "source": URL(fileURLWithPath: checkpoint).lastPathComponent]).write(to: output)
            print("wrote \(tensors.count) tensors of \(options.model)'s encoder to \(output)")
        } catch {
            exitWithDiagnostic(error)
        }
    }
}
