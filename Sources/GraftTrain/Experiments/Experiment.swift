// Experiment: the paper's ablations in miniature, declared as tables of training runs.

/// One training run of an experiment: a catalog model, a batch size and the augmentations it
/// keeps; every other option is the experiment's (`ExperimentSettings.options(for:)`).
public struct ExperimentRun: Hashable, Sendable {
    public var model: String
    public var batchSize: Int
    /// Comma-separated `AugmentationKind` names; nil: all of them.
    public var augmentations: String?

    public init(model: String, batchSize: Int = 128, augmentations: String? = nil) {
        self.model = model
        self.batchSize = batchSize
        self.augmentations = augmentations
    }
}

/// One row of an experiment's table: a label and, per method, the run that fills its cells.
public struct ExperimentRow: Sendable {
    public var label: String
    /// The run of each method, in the order of `Experiment.methods`.
    public var runs: [ExperimentRun]
}

/// A table of the paper reproduced at small scale: rows of runs, one column group per method,
/// the paper's claim it tests, and the row the others are compared with.
public struct Experiment: Sendable {
    /// The name `graft experiment` takes, and of the files in Docs/results/.
    public var name: String
    public var title: String
    /// What the paper reports, which the table tests.
    public var claim: String
    /// The column groups: "BYOL", and "SimCLR" where the two methods are compared.
    public var methods: [String]
    public var rows: [ExperimentRow]
    /// The label of the row every Δ is measured from.
    public var referenceRow: String

    /// The three ablations of issue #15, in the order `graft experiment all` runs them.
    public static let all: [Experiment] = [collapse, batchSize, augmentations]

    /// The experiment called `name`, or nil.
    public static func named(_ name: String) -> Experiment? { all.first { $0.name == name } }

    /// Every distinct run of the experiment, in table order (rows that share a run, such as
    /// the reference settings of two tables, train once).
    public var runs: [ExperimentRun] {
        var seen = Set<ExperimentRun>()
        return rows.flatMap(\.runs).filter { seen.insert($0).inserted }
    }

    /// BYOL against the variants that remove its predictor or its moving-average target.
    public static let collapse = Experiment(
        name: "collapse", title: "BYOL against no predictor, τ = 0 and τ = 1",
        claim: "Without the predictor, or with τ = 0 (the target is the online network itself), BYOL collapses to a constant representation (ImageNet linear top-1: 0.2% and 0.3%); with τ = 1 (a fixed random target) it learns something, 18.8%, far below BYOL's 72.5% after the same 300 epochs but above the random network's 1.4%.",
        methods: ["BYOL"],
        rows: [("BYOL", "byol-t"), ("no predictor", "byol-t-no-predictor"), ("τ = 0", "byol-t-tau0"), ("τ = 1", "byol-t-tau1")]
            .map { ExperimentRow(label: $0.0, runs: [ExperimentRun(model: $0.1)]) },
        referenceRow: "BYOL")

    /// BYOL and SimCLR from batch 32 to 512, the learning rate scaled with the batch.
    public static let batchSize = Experiment(
        name: "batch-size", title: "Batch size: BYOL against SimCLR",
        claim: "BYOL is more robust to smaller batches than SimCLR: from 4096 down to 256 images, BYOL's ImageNet linear top-1 drops by 0.7 points (72.5 to 71.8) and SimCLR's by 3.6 (67.9 to 64.3; Figure 3a); below 256 BYOL also drops, through BatchNorm's statistics.",
        methods: ["BYOL", "SimCLR"],
        rows: [32, 64, 128, 256, 512].map { batch in
            ExperimentRow(label: "batch \(batch)", runs: ["byol-t", "simclr-t"].map { ExperimentRun(model: $0, batchSize: batch) })
        },
        referenceRow: "batch 128")

    /// BYOL and SimCLR with all augmentations, each removed in turn, and crops only.
    public static let augmentations = Experiment(
        name: "augmentations", title: "Augmentations: BYOL against SimCLR",
        claim: "BYOL depends less on the augmentations than SimCLR: with crops only, BYOL loses 13.1 points of ImageNet linear top-1 and SimCLR 27.6; without the colour distortions, BYOL loses 9.1 and SimCLR 22.2 (Figure 3b).",
        methods: ["BYOL", "SimCLR"],
        rows: [("all", nil), ("without flip", "crop,color,blur,solarize"), ("without color", "crop,flip,blur,solarize"),
               ("without blur", "crop,flip,color,solarize"), ("without solarize", "crop,flip,color,blur"), ("crop only", "crop")]
            .map { row in
                ExperimentRow(label: row.0, runs: ["byol-t", "simclr-t"].map { ExperimentRun(model: $0, augmentations: row.1) })
            },
        referenceRow: "all")
}

/// What every run of an experiment shares: `make train`'s settings, shortened.
public struct ExperimentSettings: Sendable {
    public var dataDirectory: String
    public var epochs: Int
    /// Train on the first this many training images (0: all).
    public var trainImages: Int
    public var seed: UInt64
    /// Images of the per-epoch kNN monitor (training set, test set).
    public var monitorImages: (train: Int, test: Int)
    /// The linear probe's epochs (`graft eval`'s default).
    public var probeEpochs: Int

    public init(dataDirectory: String, epochs: Int = 2, trainImages: Int = 0, seed: UInt64 = 0,
                monitorImages: (train: Int, test: Int) = (10_000, 2_000), probeEpochs: Int = 30) {
        self.dataDirectory = dataDirectory
        self.epochs = epochs
        self.trainImages = trainImages
        self.seed = seed
        self.monitorImages = monitorImages
        self.probeEpochs = probeEpochs
    }

    /// The learning rate at batch 128 (`make train`'s), scaled linearly with the batch.
    public static let baseLearningRate = 4.0
    /// The smallest crop (`make train`'s).
    public static let minimumCropScale = 0.25

    /// The training options of `run`, written to `outputDirectory`: LARS at 4.0 × batch / 128,
    /// crops of at least 25% of the image, a warm-up of a tenth of the run.
    public func options(for run: ExperimentRun, outputDirectory: String) -> TrainingOptions {
        var options = TrainingOptions(model: run.model, dataDirectory: dataDirectory, epochs: epochs, batchSize: run.batchSize,
                                      learningRate: Self.baseLearningRate * Double(run.batchSize) / 128,
                                      warmupEpochs: Double(epochs) / 10, seed: seed, outputDirectory: outputDirectory,
                                      monitorTrainImages: monitorImages.train, monitorTestImages: monitorImages.test,
                                      trainImages: trainImages)
        options.minimumCropScale = Self.minimumCropScale
        options.augmentations = run.augmentations
        return options
    }
}
