// Trainer: the training loop: data, the compiled step, schedules, metrics, checkpoints.

import Foundation
import GraftIR
import GraftPasses
import GraftRuntime
import GraftModels
import GraftData
import GraftCheckpoint

/// Set by the SIGINT handler; the loop saves a checkpoint and stops at the next step.
nonisolated(unsafe) private var interruptRequested: Int32 = 0

/// Trains a declared model on a dataset with its compiled training step.
///
/// BYOL models get two augmented views per image (T and T′); supervised models get one view
/// (T) and the labels. The learning rate (warm-up, then cosine) and BYOL's τ (cosine from
/// τ_base to 1) are computed from the optimizer step. Every `checkpointEvery` steps and at the
/// end of every epoch the params, state, optimizer state and position are written to
/// `<out>/checkpoint.safetensors` (atomically); a resumed run continues bit for bit.
public final class Trainer {
    public let options: TrainingOptions
    public let entry: ModelEntry
    public let train: Dataset
    public let test: Dataset
    public let step: Executable
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Writes the progress line (carriage-return updates on a terminal).
    public var progress: (String) -> Void = { line in
        FileHandle.standardError.write(Data(((isatty(2) != 0 ? "\r" : "") + line + (isatty(2) != 0 ? "" : "\n")).utf8))
    }

    public var checkpointPath: String { options.outputDirectory + "/checkpoint.safetensors" }
    public var metricsPath: String { options.outputDirectory + "/metrics.jsonl" }
    let batcher: Batcher
    let learningRate: LearningRateSchedule
    let tau: TargetDecaySchedule
    private var startStep = 0

    /// Loads the data and compiles the step; with `resume`, restores a checkpoint's values.
    public init(_ options: TrainingOptions, resume: String? = nil) throws {
        var options = options
        var checkpoint: Checkpoint?
        if let resume {
            let loaded = try Checkpoint.read(from: resume)
            let saved = try TrainingCheckpoint.options(of: loaded, path: resume)
            // The schedules depend on the whole plan: continue the saved run.
            options = saved.with(outputDirectory: options.outputDirectory)
            checkpoint = loaded
        }
        guard var entry = ModelCatalog.model(named: options.model) else {
            throw Diagnostic("unknown model '\(options.model)'; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", "))")
        }
        if let weightDecay = options.weightDecay {
            entry.pipeline.optimizer = try Trainer.optimizer(entry.pipeline.optimizer, weightDecay: Float(weightDecay))
        }
        self.options = options
        self.entry = entry
        var train = try Trainer.loadDataset(options.dataDirectory, split: .train)
        if options.trainImages > 0 { train = train.prefix(options.trainImages) }
        self.train = train
        test = try Trainer.loadDataset(options.dataDirectory, split: .test)
        guard train.count >= options.batchSize else {
            throw Diagnostic("the training set has \(train.count) images, fewer than one batch of \(options.batchSize); lower --batch-size")
        }

        let graph = try entry.compile(batchSize: options.batchSize, seed: options.seed, stage: .optimized)
        step = try Executable(graph)
        try step.setVariables(graph.initialValues(seed: options.seed))
        batcher = Batcher(count: train.count, batchSize: options.batchSize, seed: options.seed)
        let totalSteps = options.epochs * batcher.stepsPerEpoch
        let base = options.learningRate ?? (entry.isSelfSupervised ? LearningRateSchedule.byolBase(batchSize: options.batchSize) : 0.1)
        learningRate = LearningRateSchedule(base: base, warmupSteps: Int(options.warmupEpochs * Double(batcher.stepsPerEpoch)),
                                            totalSteps: Swift.max(totalSteps, 1))
        tau = TargetDecaySchedule(base: options.tauBase, totalSteps: Swift.max(totalSteps, 1))
        if let checkpoint, let resume {
            startStep = try TrainingCheckpoint.restore(checkpoint, into: step, path: resume)
        }
    }

    /// Fashion-MNIST, or CIFAR-10 when the directory holds its binary batches.
    public static func loadDataset(_ directory: String, split: DatasetSplit) throws -> Dataset {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        if names.contains(where: { $0.hasPrefix("data_batch_") || $0 == "test_batch.bin" }) {
            return try CIFAR10.load(directory: directory, split: split)
        }
        return try FashionMNIST.load(directory: directory, split: split)
    }

    /// Runs the remaining steps (or up to `stopAt`, saving a checkpoint there); returns the
    /// last loss.
    @discardableResult
    public func run(stopAt: Int? = nil) throws -> Float {
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        // A run killed while writing a checkpoint leaves its temporary file; the checkpoint
        // itself is always whole. Clear such leftovers.
        let checkpointName = URL(fileURLWithPath: checkpointPath).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: options.outputDirectory)) ?? []
        where name.hasPrefix(checkpointName + ".tmp-") {
            try? FileManager.default.removeItem(atPath: options.outputDirectory + "/" + name)
        }
        let metrics = try MetricsLog(path: metricsPath, keepingStepsUpTo: startStep > 0 ? startStep : nil)
        if startStep == 0 { metrics.write(["event": "start", "step": 0, "model": options.model, "batch_size": options.batchSize, "epochs": options.epochs]) }
        let stepsPerEpoch = batcher.stepsPerEpoch
        let totalSteps = options.epochs * stepsPerEpoch
        var view1 = Augmentation.byolT, view2 = Augmentation.byolTPrime
        view1.cropScale = options.minimumCropScale...1
        view2.cropScale = options.minimumCropScale...1
        let batches = BatchPrefetcher(dataset: train, augmentation: BYOLAugmentation(view1: view1, view2: view2),
                                      batchSize: options.batchSize, seed: options.seed,
                                      startEpoch: startStep / stepsPerEpoch, startStep: startStep % stepsPerEpoch)
        let monitor = options.monitorTrainImages > 0 ? try KNNMonitor(entry: entry, train: train, test: test, options: options) : nil
        interruptRequested = 0
        signal(SIGINT) { _ in interruptRequested = 1 }
        defer { signal(SIGINT, SIG_DFL) }

        var lastLoss: Float = .nan
        var windowStart = Date(), windowImages = 0
        var windowWait = 0.0, windowCompute = 0.0, windowPreparation = 0.0   // seconds: waiting for data, running the step, preparing data
        let runStart = Date()
        var lastProgress = Date.distantPast
        var stepIndex = startStep
        while stepIndex < totalSteps {
            let waitStart = Date()
            let batch = batches.next()
            let computeStart = Date()
            let inputs = stepInputs(batch, stepIndex: stepIndex)
            let outputs = try step.run(inputs)
            windowWait += computeStart.timeIntervalSince(waitStart)
            windowCompute += Date().timeIntervalSince(computeStart)
            windowPreparation += batch.preparationSeconds
            let loss = outputs[0].scalars[0]
            guard loss.isFinite else {
                throw Diagnostic("the loss became \(loss) at epoch \(batch.epoch + 1), step \(stepIndex + 1); training stopped. The last good checkpoint is \(checkpointPath) (\(FileManager.default.fileExists(atPath: checkpointPath) ? "kept" : "none was written yet")). Lower the learning rate (--lr) or check the data.")
            }
            lastLoss = loss
            stepIndex += 1
            windowImages += options.batchSize
            let elapsed = Date().timeIntervalSince(windowStart)
            let rate = Double(windowImages) / Swift.max(elapsed, 1e-9)
            if stepIndex % 10 == 0 || stepIndex == totalSteps {
                // data_wait_fraction: the share of the window spent waiting for augmented batches
                // (the prefetcher prepares the next batch while the step runs);
                // data_preparation_fraction: the time the prefetcher spent on a batch over the
                // step's time (the cost of data preparation, though it runs alongside).
                var record: [String: Any] = ["step": stepIndex, "epoch": batch.epoch + 1, "loss": Double(loss),
                                             "lr": learningRate.value(atStep: stepIndex - 1), "images_per_second": rate,
                                             "step_seconds": windowCompute / Double(windowImages / options.batchSize),
                                             "data_wait_fraction": windowWait / Swift.max(windowWait + windowCompute, 1e-9),
                                             "data_preparation_fraction": windowPreparation / Swift.max(windowCompute, 1e-9)]
                if entry.isSelfSupervised {
                    record["tau"] = tau.value(atStep: stepIndex - 1)
                    record["z_std"] = Double(outputs[1].scalars[0])
                }
                metrics.write(record)
                windowStart = Date()
                windowImages = 0
                windowWait = 0
                windowCompute = 0
                windowPreparation = 0
            }
            // The progress line: at most every half second on a terminal, every 30 s in a log.
            let now = Date()
            if now.timeIntervalSince(lastProgress) >= (isatty(2) != 0 ? 0.5 : 30) || stepIndex == totalSteps {
                lastProgress = now
                let remaining = Double(totalSteps - stepIndex) * now.timeIntervalSince(runStart) / Double(stepIndex - startStep)
                progress(String(format: "epoch %d/%d  step %d/%d  loss %.4f  %.0f img/s  ETA %@", batch.epoch + 1, options.epochs,
                                stepIndex, totalSteps, loss, rate, Trainer.clock(remaining)))
            }
            let endOfEpoch = stepIndex % stepsPerEpoch == 0
            let stopping = stepIndex == stopAt
            if endOfEpoch || (options.checkpointEvery > 0 && stepIndex % options.checkpointEvery == 0) || interruptRequested != 0 || stopping {
                try TrainingCheckpoint.write(step, options: options, step: stepIndex, to: checkpointPath)
            }
            if endOfEpoch, let monitor {
                let accuracy = try monitor.measure(step.variables)
                metrics.write(["step": stepIndex, "epoch": stepIndex / stepsPerEpoch, "knn_accuracy": accuracy])
                progress("")
                log(String(format: "epoch %d: loss %.4f, kNN accuracy %.2f%% (k = 200, %d train / %d test images)",
                           stepIndex / stepsPerEpoch, loss, accuracy * 100, options.monitorTrainImages, options.monitorTestImages))
            }
            if interruptRequested != 0 {
                log("\ninterrupted: saved \(checkpointPath) at step \(stepIndex); resume with --resume \(checkpointPath)")
                throw TrainingInterrupted(step: stepIndex)
            }
            if stopping {
                log("\nstopped at step \(stepIndex) as asked; resume with --resume \(checkpointPath)")
                return lastLoss
            }
        }
        log("")
        return lastLoss
    }

    /// `optimizer` with its weight decay set to `weightDecay`.
    static func optimizer(_ optimizer: any Pass & Sendable, weightDecay: Float) throws -> any Pass & Sendable {
        switch optimizer {
        case var lars as LARS:
            lars.weightDecay = weightDecay
            return lars
        case var sgd as SGD:
            sgd.weightDecay = weightDecay
            return sgd
        default:
            throw Diagnostic("--weight-decay applies to LARS and SGD; this model's optimizer is \(optimizer.name)")
        }
    }

    /// The step's inputs for a batch.
    func stepInputs(_ batch: AugmentedBatch, stepIndex: Int) -> [String: HostTensor] {
        let graph = step.graph
        var inputs: [String: HostTensor] = [:]
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            let type = graph[id].type
            switch name {
            case "view1", "images": inputs[name] = HostTensor(type, batch.view1)
            case "view2": inputs[name] = HostTensor(type, batch.view2)
            case "labels": inputs[name] = HostTensor(type, batch.labels.map(Float.init))
            case "learning_rate": inputs[name] = HostTensor(scalar: Float(learningRate.value(atStep: stepIndex)))
            case "tau": inputs[name] = HostTensor(scalar: Float(tau.value(atStep: stepIndex)))
            case "step": inputs[name] = HostTensor(scalar: Float(stepIndex + 1))
            default: break
            }
        }
        return inputs
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                             : String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// Thrown when Ctrl-C stopped training after saving a checkpoint.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var step: Int
    public var description: String { "training interrupted at step \(step); the checkpoint was saved" }
}

/// The per-epoch kNN monitor: a fixed subset of the training set as the memory bank, a fixed
/// subset of the test set as queries, features from the online encoder in inference mode.
final class KNNMonitor {
    let extractor: FeatureExtractor
    let bank: Dataset
    let queries: Dataset

    init(entry: ModelEntry, train: Dataset, test: Dataset, options: TrainingOptions) throws {
        extractor = try FeatureExtractor(encoder: entry.encoder, imageSize: train.height, batchSize: 500)
        bank = train.prefix(options.monitorTrainImages)
        queries = test.prefix(options.monitorTestImages)
    }

    func measure(_ variables: [String: HostTensor]) throws -> Double {
        try extractor.load(variables)
        let bankFeatures = try extractor.features(of: bank)
        let queryFeatures = try extractor.features(of: queries)
        return KNNClassifier.accuracy(train: bankFeatures, trainLabels: bank.labels, test: queryFeatures, testLabels: queries.labels,
                                      dimension: extractor.featureSize, classes: bank.classes, k: [200])[200] ?? 0
    }
}
