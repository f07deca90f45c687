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

    @Option(name: .long, help: "Dataset directory: Fashion-MNIST IDX files (gzip or plain) or CIFAR-10 binary batches.")
    var data = "/usr/share/datasets/fashion-mnist"

    @Option(name: .long, help: "Epochs.") var epochs = 10
    @Option(name: .long, help: "Batch size (default: the model's reference batch size).") var batchSize: Int?
    @Option(name: .long, help: "Base learning rate (default: 0.2 × batch / 256 for BYOL's LARS, 0.1 for supervised SGD).") var lr: Double?
    @Option(name: .long, help: "Linear warm-up of the learning rate, in epochs.") var warmupEpochs = 1.0
    @Option(name: .long, help: "τ_base of BYOL's EMA schedule.") var tauBase = 0.99
    @Option(name: .long, help: "Output directory (default: runs/<model>).") var out: String?
    @Option(name: .long, help: "Continue from a checkpoint written by graft train.") var resume: String?
    @Option(name: .long, help: "Seed for initialisation, data order and augmentations.") var seed: UInt64 = 0
    @Option(name: .long, help: "Also write a checkpoint every N steps.") var checkpointEvery = 0
    @Option(name: .long, help: "Training images in the kNN monitor's memory bank (0 disables the monitor).") var knnTrain = 10_000
    @Option(name: .long, help: "Test images the kNN monitor classifies.") var knnTest = 2_000
    @Option(name: .long, help: "Train on the first N training images only (0: all).") var trainImages = 0
    @Option(name: .long, help: "Stop after this optimizer step, saving a checkpoint to resume from.") var stopAtStep: Int?
    @Option(name: .long, help: "Smallest area fraction of the random resized crop (BYOL: 0.08).") var minCropScale = 0.08
    @Option(name: .long, help: "Weight decay of the optimizer (default: the model's; BYOL's LARS 1.5e-6).") var weightDecay: Double?

    func validate() throws {
        guard resume != nil || model != nil else { throw ValidationError("name a model to train (see `graft models`), or --resume a checkpoint") }
        if let model, ModelCatalog.model(named: model) == nil {
            throw ValidationError("unknown model '\(model)'; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", "))")
        }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let batchSize, batchSize < 2 { throw ValidationError("--batch-size must be at least 2 (BatchNorm needs a batch), got \(batchSize)") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
        guard (0...1).contains(tauBase) else { throw ValidationError("--tau-base must be in [0, 1], got \(tauBase)") }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be a non-negative number, got \(weightDecay)") }
        guard minCropScale > 0, minCropScale <= 1 else { throw ValidationError("--min-crop-scale must be in (0, 1], got \(minCropScale)") }
        guard warmupEpochs >= 0, checkpointEvery >= 0, knnTrain >= 0, knnTest >= 0, trainImages >= 0 else {
            throw ValidationError("--warmup-epochs, --checkpoint-every, --knn-train, --knn-test and --train-images cannot be negative")
        }
    }

    func run() throws {
        let name = model ?? ""
        let entry = ModelCatalog.model(named: name)
        var options = TrainingOptions(
            model: name, dataDirectory: data, epochs: epochs, batchSize: batchSize ?? entry?.defaultBatchSize ?? 128,
            learningRate: lr, warmupEpochs: warmupEpochs, tauBase: tauBase, seed: seed,
            outputDirectory: out ?? (resume.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "runs/\(name)"),
            checkpointEvery: checkpointEvery, monitorTrainImages: knnTrain, monitorTestImages: knnTest, trainImages: trainImages)
        options.minimumCropScale = minCropScale
        options.weightDecay = weightDecay
        do {
            let trainer = try Trainer(options, resume: resume)
            // Under mpirun every rank trains; rank 0 reports.
            let group = trainer.step.communicator
            let replicas = group.size > 1 ? " on \(group.size) ranks of \(trainer.options.batchSize / group.size)" : ""
            if group.rank == 0 {
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
