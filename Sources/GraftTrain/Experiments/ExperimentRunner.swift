// ExperimentRunner: trains and evaluates an experiment's runs, each in its own directory, so
// an interrupted experiment resumes and a finished run is never trained again.

import Foundation
import GraftIR
import GraftModels
import GraftData
import GraftCheckpoint

/// What one run of an experiment measured, stored as `result.json` in its directory.
public struct ExperimentResult: Codable, Sendable, Equatable {
    public var model: String
    /// Test accuracy of the linear probe on the frozen features, in [0, 1].
    public var linearProbe: Double
    /// Test accuracy of kNN (k = 20, cosine) on the frozen features, in [0, 1].
    public var knn20: Double
    /// The last logged collapse monitor (nil if the run logged none).
    public var zStd: Double?
    /// Images the encoder was trained on, and the test images it was measured on.
    public var trainImages: Int
    public var testImages: Int

    enum CodingKeys: String, CodingKey {
        case model, linearProbe = "linear_probe", knn20 = "knn20", zStd = "z_std", trainImages = "train_images", testImages = "test_images"
    }
}

/// Runs experiments' training runs under `directory`, one subdirectory per run named by its
/// model and a hash of its options: `trained.json` marks a finished training run,
/// `result.json` its evaluation. A run with a checkpoint but no `trained.json` resumes.
public struct ExperimentRunner {
    public var settings: ExperimentSettings
    /// Where the runs' directories are (`runs/experiments` by default).
    public var directory: String
    /// Progress lines (training starts, evaluations, results).
    public var log: (String) -> Void

    public init(settings: ExperimentSettings, directory: String, log: @escaping (String) -> Void = { _ in }) {
        self.settings = settings
        self.directory = directory
        self.log = log
    }

    /// The options of `run`, written to its own directory.
    public func options(for run: ExperimentRun) -> TrainingOptions {
        let unplaced = settings.options(for: run, outputDirectory: "")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = (try? encoder.encode(unplaced)).map { String(decoding: $0, as: UTF8.self) } ?? "\(unplaced)"
        let hash = String(Trainer.fingerprint([text]), radix: 16)
        return settings.options(for: run, outputDirectory: (directory as NSString).appendingPathComponent("\(run.model)-\(hash)"))
    }

    /// The stored result of `run`, or nil if it has not been evaluated.
    /// - Throws: a `Diagnostic` for a `result.json` that cannot be read.
    public func storedResult(of run: ExperimentRun) throws -> ExperimentResult? {
        let path = resultPath(options(for: run))
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(ExperimentResult.self, from: Data(try RegularFile.contents(of: path, what: "the result of an experiment run")))
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic("'\(path)' is not a result written by graft experiment (\(error))",
                             notes: ["delete it to evaluate the run again from its checkpoint"])
        }
    }

    /// The result of `run`: the stored one, or one measured now, training first unless the
    /// run's training has finished.
    public func result(of run: ExperimentRun) throws -> ExperimentResult {
        if let stored = try storedResult(of: run) { return stored }
        let options = options(for: run)
        let trainedPath = (options.outputDirectory as NSString).appendingPathComponent("trained.json")
        let checkpoint = (options.outputDirectory as NSString).appendingPathComponent("checkpoint.safetensors")
        if !FileManager.default.fileExists(atPath: trainedPath) {
            let resume = FileManager.default.fileExists(atPath: checkpoint) ? checkpoint : nil
            log("training \(describe(run)) in \(options.outputDirectory)\(resume == nil ? "" : " (resuming)")")
            let trainer = try Trainer(options, resume: resume)
            try trainer.run()
            try write(["model": run.model, "finished": ISO8601DateFormatter().string(from: Date())], to: trainedPath)
        }
        log("evaluating \(describe(run))")
        let result = try evaluate(checkpoint: checkpoint, options: options)
        try write(result, to: resultPath(options))
        log("\(describe(run)): linear probe \(Evaluation.percent(result.linearProbe)), kNN k=20 \(Evaluation.percent(result.knn20))")
        return result
    }

    /// The linear probe and kNN of the checkpoint's encoder on the whole training and test
    /// sets, as `graft eval` measures them, and the run's last collapse monitor.
    func evaluate(checkpoint path: String, options: TrainingOptions) throws -> ExperimentResult {
        guard let entry = ModelCatalog.model(named: options.model) else { throw Diagnostic("unknown model '\(options.model)'") }
        let file = try Checkpoint.read(from: path)
        let variables = try EncoderCheckpoint.variables(of: file, path: path, encoder: entry.encoder, model: options.model)
        let train = try Dataset.load(directory: options.dataDirectory, split: .train)
        let test = try Dataset.load(directory: options.dataDirectory, split: .test)
        let scores = try Evaluation.linearAndKNN(.encoder(entry.encoder, variables), train: train, test: test,
                                                 probe: LinearProbe(epochs: settings.probeEpochs))
        let metrics = (options.outputDirectory as NSString).appendingPathComponent("metrics.jsonl")
        let zStd = try MetricsLog.read(metrics).compactMap { $0["z_std"] as? Double }.last
        return ExperimentResult(model: options.model, linearProbe: scores["linear"] ?? 0, knn20: scores["knn20"] ?? 0, zStd: zStd,
                                trainImages: options.trainImages > 0 ? Swift.min(options.trainImages, train.count) : train.count,
                                testImages: test.count)
    }

    func resultPath(_ options: TrainingOptions) -> String {
        (options.outputDirectory as NSString).appendingPathComponent("result.json")
    }

    /// A run in words: its model, batch size and augmentations.
    public func describe(_ run: ExperimentRun) -> String {
        "\(run.model), batch \(run.batchSize)" + (run.augmentations.map { ", augmentations \($0)" } ?? "")
    }

    private func write(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
