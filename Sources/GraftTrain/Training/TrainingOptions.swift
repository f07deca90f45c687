// TrainingOptions: what `graft train` was asked to do.

import GraftIR
import GraftData

/// The settings of a training run; stored in every checkpoint so a resumed run continues the
/// same schedules.
public struct TrainingOptions: Sendable, Codable, Hashable {
    public var model: String
    public var dataDirectory: String
    public var epochs: Int
    public var batchSize: Int
    /// Base learning rate; nil: BYOL's 0.2 × batch / 256 (LARS), 0.1 for supervised models.
    public var learningRate: Double?
    public var warmupEpochs: Double
    /// τ_base of the EMA schedule.
    public var tauBase: Double
    public var seed: UInt64
    public var outputDirectory: String
    /// Write a checkpoint every this many steps (also at every epoch's end); 0: epochs only.
    public var checkpointEvery: Int
    /// Images of the training and test sets used by the per-epoch kNN monitor (0: no monitor).
    public var monitorTrainImages: Int
    public var monitorTestImages: Int
    /// Train on the first this many training images (0: all), for quick runs and tests.
    public var trainImages: Int
    /// The smallest area fraction of BYOL's random resized crop (the paper: 0.08).
    public var minimumCropScale: Double = 0.08
    /// Weight decay of the model's optimizer (LARS or SGD); nil: the model's own (BYOL 1.5e-6).
    public var weightDecay: Double?
    /// Under `mpirun`: true normalises each rank's BatchNorm by its own shard's statistics (as
    /// with per-device statistics); nil or false: by the global batch's (cross-replica), the
    /// same step as one process. No effect in a single process.
    public var perReplicaStatistics: Bool?
    /// The augmentations kept, comma-separated (`AugmentationKind`: crop, flip, color, blur,
    /// solarize); nil: all of them.
    public var augmentations: String?

    public init(model: String, dataDirectory: String, epochs: Int, batchSize: Int, learningRate: Double? = nil,
                warmupEpochs: Double = 1, tauBase: Double = 0.99, seed: UInt64 = 0, outputDirectory: String,
                checkpointEvery: Int = 0, monitorTrainImages: Int = 10_000, monitorTestImages: Int = 2_000, trainImages: Int = 0) {
        self.model = model
        self.dataDirectory = dataDirectory
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupEpochs = warmupEpochs
        self.tauBase = tauBase
        self.seed = seed
        self.outputDirectory = outputDirectory
        self.checkpointEvery = checkpointEvery
        self.monitorTrainImages = monitorTrainImages
        self.monitorTestImages = monitorTestImages
        self.trainImages = trainImages
    }
}

extension TrainingOptions {
    /// The largest values `graft train` accepts: far beyond any real run, small enough that
    /// every product of them (steps = epochs × steps per epoch, warm-up steps, …) fits an `Int`.
    public static let limits = (epochs: 1_000_000, batchSize: 65_536, images: 100_000_000)

    /// The first setting outside what `graft train` accepts, as a sentence naming its flag
    /// (`--epochs must be between 1 and 1000000, got 0`), or nil when all are valid.
    ///
    /// The same rules hold for the flags and for the options stored in a checkpoint, which are
    /// the flags of the run that wrote it.
    public var problem: String? {
        let limits = TrainingOptions.limits
        func integer(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) -> String? {
            range.contains(value) ? nil : "\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)"
        }
        func real(_ flag: String, _ value: Double, _ range: ClosedRange<Double>, lowerOpen: Bool = false) -> String? {
            let bounds = "\(lowerOpen ? "(" : "[")\(range.lowerBound), \(range.upperBound)]"
            return value.isFinite && range.contains(value) && !(lowerOpen && value == range.lowerBound)
                ? nil : "\(flag) must be a finite number in \(bounds), got \(value)"
        }
        if model.isEmpty { return "the model name is empty; name a model to train (see `graft models`)" }
        if dataDirectory.isEmpty { return "--data is empty; give the dataset directory" }
        if outputDirectory.isEmpty { return "--out is empty; give the output directory" }
        let batch: String? = integer("--batch-size", batchSize, 2...limits.batchSize).map { $0 + " (BatchNorm needs at least 2 images per batch)" }
        let warmup: String? = real("--warmup-epochs", warmupEpochs, 0...Double(Swift.max(epochs, 0))).map { $0 + " (at most --epochs)" }
        let checks: [String?] = [
            integer("--epochs", epochs, 1...limits.epochs),
            batch,
            learningRate.flatMap { real("--lr", $0, 0...1e6, lowerOpen: true) },
            warmup,
            real("--tau-base", tauBase, 0...1),
            integer("--checkpoint-every", checkpointEvery, 0...Int(Int32.max)),
            integer("--knn-train", monitorTrainImages, 0...limits.images),
            integer("--knn-test", monitorTestImages, 0...limits.images),
            integer("--train-images", trainImages, 0...limits.images),
            real("--min-crop-scale", minimumCropScale, 0...1, lowerOpen: true),
            weightDecay.flatMap { real("--weight-decay", $0, 0...1) },
            augmentations.flatMap { list in
                do { _ = try AugmentationKind.parseList(list); return nil } catch { return (error as? Diagnostic)?.message ?? "\(error)" }
            },
        ]
        return checks.compactMap { $0 }.first
    }
}
