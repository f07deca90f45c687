// TrainingOptions: what `graft train` was asked to do.

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
