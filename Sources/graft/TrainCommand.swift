// TrainCommand: `graft train <model>` trains a declared model on Fashion-MNIST (or CIFAR-10).

import Graft
import ArgumentParser
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a declared model with its compiled training step.",
        discussion: """
            Writes <out>/checkpoint.safetensors (every epoch, atomically) and <out>/metrics.jsonl \
            (loss, lr, tau, z_std, kNN accuracy, step time, data preparation and waiting as shares of the step). \
            Ctrl-C saves a checkpoint and stops; --resume continues bit for bit.
            """)

    @Argument(help: "The model to train (see `graft models`).")
    var model: String?

    @Option(name: .long, help: "Dataset directory: Fashion-MNIST IDX files (gzip or plain) or CIFAR-10 binary batches (default: \(TrainCommand.defaultData)).")
    var data: String?

    // Numbers are parsed unconditionally, so `--epochs -3` is read as -3 and refused with the
    // range, not as a missing value followed by an unknown option.
    @Option(name: .long, parsing: .unconditional, help: "Epochs (default: 10).") var epochs: Int?
    @Option(name: .long, parsing: .unconditional, help: "Batch size (default: the model's reference batch size).") var batchSize: Int?
    @Option(name: .long, parsing: .unconditional, help: "Base learning rate (default: 0.2 × batch / 256 for BYOL's LARS, 0.1 for supervised SGD).") var lr: Double?
    @Option(name: .long, parsing: .unconditional, help: "Linear warm-up of the learning rate, in epochs (default: 1).") var warmupEpochs: Double?
    @Option(name: .long, parsing: .unconditional, help: "τ_base of BYOL's EMA schedule (default: 0.99).") var tauBase: Double?
    @Option(name: .long, help: "Output directory (default: runs/<model>; with --resume, the checkpoint's directory).") var out: String?
    @Option(name: .long, help: "Continue from a checkpoint written by graft train, with the options stored in it.") var resume: String?
    @Option(name: .long, parsing: .unconditional, help: "Seed for initialisation, data order and augmentations (default: 0).") var seed: UInt64?
    @Option(name: .long, parsing: .unconditional, help: "Also write a checkpoint every N steps (default: 0, every epoch only).") var checkpointEvery: Int?
    @Option(name: .long, parsing: .unconditional, help: "Training images in the kNN monitor's memory bank (0 disables the monitor; default: 10000).") var knnTrain: Int?
    @Option(name: .long, parsing: .unconditional, help: "Test images the kNN monitor classifies (default: 2000).") var knnTest: Int?
    @Option(name: .long, parsing: .unconditional, help: "Train on the first N training images only (0: all, the default).") var trainImages: Int?
    @Option(name: .long, parsing: .unconditional, help: "Stop after this optimizer step, saving a checkpoint to resume from.") var stopAtStep: Int?
    @Option(name: .long, parsing: .unconditional, help: "Smallest area fraction of the random resized crop (BYOL: 0.08, the default).") var minCropScale: Double?
    @Option(name: .long, parsing: .unconditional, help: "Weight decay of the optimizer (default: the model's; BYOL's LARS 1.5e-6).") var weightDecay: Double?
    @Option(name: .long, help: "The augmentations to keep, comma-separated, of: crop, flip, color, blur, solarize (default: all); without crop, each view is the whole image.") var augmentations: String?
    @Flag(name: .long, help: "Under mpirun: each rank's BatchNorm uses its own shard's statistics instead of the global batch's (no effect in one process).") var perReplicaStatistics = false

    static let defaultData = "/usr/share/datasets/fashion-mnist"

    /// The flags that set a run's options, which a resumed run takes from its checkpoint.
    var optionFlags: [(flag: String, given: Bool)] {
        [("--data", data != nil), ("--epochs", epochs != nil), ("--batch-size", batchSize != nil), ("--lr", lr != nil),
         ("--warmup-epochs", warmupEpochs != nil), ("--tau-base", tauBase != nil), ("--seed", seed != nil),
         ("--checkpoint-every", checkpointEvery != nil), ("--knn-train", knnTrain != nil), ("--knn-test", knnTest != nil),
         ("--train-images", trainImages != nil), ("--min-crop-scale", minCropScale != nil), ("--weight-decay", weightDecay != nil),
         ("--augmentations", augmentations != nil), ("--per-replica-statistics", perReplicaStatistics)]
    }

    /// The options of a new run: the flags, with the defaults for those not given.
    var options: TrainingOptions {
        let name = model ?? ""
        var options = TrainingOptions(
            model: name, dataDirectory: data ?? TrainCommand.defaultData, epochs: epochs ?? 10,
            batchSize: batchSize ?? ModelCatalog.model(named: name)?.defaultBatchSize ?? 128,
            learningRate: lr, warmupEpochs: warmupEpochs ?? 1, tauBase: tauBase ?? 0.99, seed: seed ?? 0,
            outputDirectory: out ?? (resume.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "runs/\(name)"),
            checkpointEvery: checkpointEvery ?? 0, monitorTrainImages: knnTrain ?? 10_000, monitorTestImages: knnTest ?? 2_000,
            trainImages: trainImages ?? 0)
        options.minimumCropScale = minCropScale ?? 0.08
        options.weightDecay = weightDecay
        options.augmentations = augmentations
        if perReplicaStatistics { options.perReplicaStatistics = true }
        return options
    }

    func validate() throws {
        if let model, ModelCatalog.model(named: model) == nil {
            throw ValidationError("unknown model '\(model)'; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", "))")
        }
        if let stopAtStep, stopAtStep < 1 { throw ValidationError("--stop-at-step must be at least 1, got \(stopAtStep)") }
        if let resume {
            let given = optionFlags.filter(\.given).map(\.flag)
            guard given.isEmpty else {
                throw ValidationError("\(given.joined(separator: ", ")) cannot be combined with --resume: a resumed run continues with the options stored in '\(resume)' (they fix its schedules); drop \(given.count == 1 ? "it" : "them"), or start a new run to change them")
            }
            // Reading the checkpoint is cheap beside loading data and compiling: its kind, its
            // options and the model it was trained as are checked before any work starts.
            let saved = try asValidation { try TrainingCheckpoint.options(of: try Checkpoint.read(from: resume), path: resume) }
            if let model, model != saved.model {
                throw ValidationError("'\(resume)' is a run of \(saved.model), not \(model); drop the model name to resume it, or start a new run of \(model)")
            }
        } else {
            guard model != nil else { throw ValidationError("name a model to train (see `graft models`), or --resume a checkpoint") }
            if let problem = options.problem { throw ValidationError(problem) }
        }
        if let out { try validateOutputDirectory(out, flag: "--out") }
        // The files the run writes in its directory must be regular files if they exist.
        let directory = options.outputDirectory
        try asValidation {
            try RegularFile.checkReplaceable(directory + "/metrics.jsonl", what: "the metrics log")
            try RegularFile.checkReplaceable(directory + "/checkpoint.safetensors", what: "the checkpoint")
        }
    }

    func run() throws {
        let options = self.options
        do {
            let trainer = try Trainer(options, resume: resume, stopAt: stopAtStep)
            // Under mpirun every rank trains; rank 0 reports.
            let group = trainer.step.communicator
            let perReplica = trainer.options.perReplicaStatistics == true
            let local = trainer.step.replicas
            let replicas = group.size > 1 ? " on \(group.size) ranks of \(trainer.options.batchSize / group.size)\(perReplica ? " (BatchNorm statistics per rank)" : "")"
                : local > 1 ? " as \(local) replicas of \(trainer.options.batchSize / local), one per core" : ""
            if group.rank == 0 {
                if perReplica && group.size == 1 {
                    FileHandle.standardError.write(Data("note: --per-replica-statistics changes nothing in one process (its one replica's statistics are the whole batch's); it applies under mpirun\n".utf8))
                }
                FileHandle.standardError.write(Data("training \(trainer.options.model) on \(trainer.train.name): \(trainer.train.count) images, batch \(trainer.options.batchSize)\(replicas), \(trainer.options.epochs) epochs; step compiled in \(String(format: "%.2f", trainer.step.executable.compileSeconds)) s\n".utf8))
            }
            let loss = try trainer.run(stopAt: stopAtStep)
            if group.rank == 0 {
                print("trained \(trainer.options.model): final loss \(loss); checkpoint \(trainer.checkpointPath), metrics \(trainer.metricsPath)")
            }
        } catch let interrupted as TrainingInterrupted {
            FileHandle.standardError.write(Data("\(interrupted)\n".utf8))
            throw ExitCode(130)
        } catch {
            exitWithDiagnostic(error)
        }
    }
}
