// Trainer: `graft train`: a catalog model, its data and schedules, run by the generic TrainingLoop.

import Foundation
import GraftIR
import GraftPasses
import GraftRuntime
import GraftModels
import GraftData
import GraftCheckpoint

/// `graft train`: a declared model of the catalog trained with its compiled step by a
/// `TrainingLoop`.
///
/// BYOL models get two augmented views per image (T and T′); supervised models get one view
/// (T) and the labels. The learning rate (warm-up, then cosine) and BYOL's τ (cosine from
/// τ_base to 1) are computed from the optimizer step. The run's options are stored in every
/// checkpoint, so a resumed run continues the same schedules bit for bit.
///
/// Started by `mpirun -np N`, each rank is one replica of a data-parallel step: it compiles the
/// step for its shard (the batch divided by N) with cross-replica statistics, trains on rows
/// `rank·B/N ..< (rank+1)·B/N` of the global batches a single process would see, starts from
/// rank 0's state, and leaves the log, checkpoints and progress to rank 0 (Docs/Distributed.md).
public final class Trainer {
    public let options: TrainingOptions
    public let entry: ModelEntry
    public let train: Dataset
    public let test: Dataset
    public let step: TrainingStep
    public let loop: TrainingLoop

    public var checkpointPath: String { loop.checkpointPath }
    public var metricsPath: String { loop.metricsPath }

    /// Loads the data and compiles the step; with `resume`, restores a checkpoint's values.
    /// - Throws: a `Diagnostic` for options outside `TrainingOptions.problem`'s rules (given,
    ///   or stored in the checkpoint), data that does not fit the model, and a checkpoint that
    ///   is not a resumable run of this model (incomplete, another model, a finished run).
    /// - Parameter stopAt: the step `run` will stop at, checked here against the run's steps.
    public init(_ options: TrainingOptions, resume: String? = nil, stopAt: Int? = nil) throws {
        var options = options
        var checkpoint: Checkpoint?
        if let problem = options.problem, resume == nil { throw Diagnostic(problem) }
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
        var train = try Dataset.load(directory: options.dataDirectory, split: .train)
        if options.trainImages > 0 { train = train.prefix(options.trainImages) }
        self.train = train
        test = try Dataset.load(directory: options.dataDirectory, split: .test)
        guard train.count >= options.batchSize else {
            throw Diagnostic("the training set has \(train.count) images, fewer than one batch of \(options.batchSize); lower --batch-size")
        }

        var view1 = Augmentation.byolT, view2 = Augmentation.byolTPrime
        view1.cropScale = options.minimumCropScale...1
        view2.cropScale = options.minimumCropScale...1
        if let list = options.augmentations {
            let kinds = try AugmentationKind.parseList(list)
            (view1, view2) = (view1.keeping(kinds), view2.keeping(kinds))
        }
        let content: BatchContent = entry.isSelfSupervised
            ? .views("view1", "view2", BYOLAugmentation(view1: view1, view2: view2))
            : .labeledImages(images: "images", labels: "labels", augmentation: view1)
        var data = try Batches(train, batchSize: options.batchSize, content: content, seed: options.seed)
        let communicator = try MPICommunicator.fromEnvironment()
        let replicas = communicator?.size ?? 1
        try entry.checkSplit(into: replicas)
        var threads = 2
        if let communicator, replicas > 1 {
            data = try data.shard(communicator.rank, of: replicas)
            entry.pipeline.dataParallelism = options.perReplicaStatistics == true ? .perReplica : .crossReplica(replicas: replicas)
            threads = communicator.threadsPerRank
            data.threads = threads
        }
        // One process alone runs a replica on each of its cores when the batch splits evenly
        // and the model's step splits (the same step to round-off, faster than splitting every
        // kernel: LocalReplicas).
        let localReplicas = replicas == 1 && entry.splitsAcrossReplicas ? LocalReplicas.perThread(batch: options.batchSize, threads: threads) : 1
        data.prefetches = Trainer.prefetches(cores: ProcessInfo.processInfo.activeProcessorCount, stepThreads: threads, ranks: replicas)
        let totalSteps = Swift.max(options.epochs * data.stepsPerEpoch, 1)
        var startStep = 0
        if let checkpoint, let resume {
            startStep = try Trainer.checkResumable(checkpoint, path: resume, totalSteps: totalSteps, options: options)
        }
        if let stopAt, stopAt <= startStep || stopAt > totalSteps {
            throw Diagnostic("--stop-at-step \(stopAt) is outside the steps left to run, \(startStep + 1) to \(totalSteps); give a step in that range")
        }
        let base = options.learningRate ?? (entry.isSelfSupervised ? LearningRateSchedule.byolBase(batchSize: options.batchSize) : 0.1)
        let learningRate = LearningRateSchedule(base: base, warmupSteps: Int(options.warmupEpochs * Double(data.stepsPerEpoch)),
                                                totalSteps: totalSteps)
        let tau = TargetDecaySchedule(base: options.tauBase, totalSteps: totalSteps)
        // The data against the model's inputs before the step is compiled (the loop checks
        // the same again): a dataset of another image size or channel count fails at once.
        let traced = try entry.trace(data.shardSize / localReplicas, options.seed)
        var modelInputs: [String: TensorType] = [:]
        for id in traced.graph.inputs {
            if case .input(let name) = traced.graph[id].op {
                var type = traced.graph[id].type
                if !type.shape.isEmpty { type.shape[0] *= localReplicas }
                modelInputs[name] = type
            }
        }
        try data.check(against: modelInputs)
        step = try TrainingStep(traced, pipeline: entry.pipeline,
                                learningRate: learningRate, tau: entry.isSelfSupervised ? tau : nil, threads: threads,
                                replicas: localReplicas)
        if let checkpoint, let resume { try step.restore(checkpoint, path: resume) }
        if let communicator, replicas > 1 {
            step.communicator = communicator
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let fingerprint = Trainer.fingerprint([String(decoding: try encoder.encode(options), as: UTF8.self),
                                                   "images=\(train.count)", "step=\(step.stepsTaken)", "graph=\(step.graph.name)"])
            guard communicator.allAgree(on: fingerprint) else {
                throw Diagnostic("rank \(communicator.rank) of this mpirun job has another model, options, data or checkpoint than rank 0; start every rank with the same command, data and files")
            }
            step.broadcastVariables()
        }

        loop = try TrainingLoop(step: step, data: data, epochs: options.epochs, outputDirectory: options.outputDirectory,
                                outputNames: entry.isSelfSupervised ? ["loss", "z_std"] : ["loss"])
        loop.checkpointEvery = options.checkpointEvery
        loop.checkpointMetadata = try TrainingCheckpoint.metadata(options)
        if options.monitorTrainImages > 0 {
            let monitor = try KNNMonitor(entry: entry, train: train, test: test, options: options)
            let step = self.step
            loop.epochEnd = { _ in ["knn_accuracy": try monitor.measure(step.variables)] }
        }
    }

    /// Whether batches are prepared in the background while the step runs (`Batches.prefetches`):
    /// only where the step leaves cores idle. Under mpirun the ranks share out every core; one
    /// process alone runs its step on `stepThreads`.
    static func prefetches(cores: Int, stepThreads: Int, ranks: Int) -> Bool {
        ranks == 1 && cores > stepThreads
    }

    /// Refuses, before compiling, a checkpoint whose step is not inside the run it belongs to:
    /// a finished run (nothing to resume) or a step past the end (a damaged file).
    /// Returns the checkpoint's step.
    @discardableResult
    static func checkResumable(_ checkpoint: Checkpoint, path: String, totalSteps: Int, options: TrainingOptions) throws -> Int {
        guard let raw = try checkpoint.values(TrainingStep.stepKey, as: UInt64.self, from: path).first else {
            throw Diagnostic("'\(path)' has no '\(TrainingStep.stepKey)' tensor; it is not a complete training checkpoint")
        }
        guard raw < UInt64(totalSteps) else {
            if raw == UInt64(totalSteps) {
                throw Diagnostic("'\(path)' is a finished run: it took all \(totalSteps) steps of its \(options.epochs) epochs, so there is nothing to resume",
                                 notes: ["evaluate it with `graft eval \(path)`, or start a new run with more --epochs"])
            }
            throw Diagnostic("'\(path)' is at step \(raw), past the \(totalSteps) steps of its run (\(options.epochs) epochs of \(totalSteps / options.epochs) steps on \(options.dataDirectory))",
                             notes: ["the file was edited, or the dataset changed since it was written; use an intact checkpoint and the same data"])
        }
        return Int(raw)
    }

    /// Runs the remaining steps (or up to `stopAt`, saving a checkpoint there); returns the
    /// last loss.
    @discardableResult
    public func run(stopAt: Int? = nil) throws -> Float {
        try loop.run(stopAt: stopAt)
    }

    /// A 64-bit FNV-1a hash of `lines`, the same in every process.
    static func fingerprint(_ lines: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in lines.joined(separator: "\n").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
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
}

/// The per-epoch kNN monitor: a fixed subset of the training set as the memory bank, a fixed
/// subset of the test set as queries, features from the online encoder in inference mode.
final class KNNMonitor {
    let extractor: FeatureExtractor
    let bank: Dataset
    let queries: Dataset

    init(entry: ModelEntry, train: Dataset, test: Dataset, options: TrainingOptions) throws {
        extractor = try FeatureExtractor(encoder: entry.encoder, imageSize: train.height)
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
