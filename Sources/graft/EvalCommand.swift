// EvalCommand: `graft eval <checkpoint> --protocol linear|knn|finetune` and the baselines.

import Graft
import ArgumentParser
import Foundation

extension FineTuneHead: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a trained encoder: linear probe, kNN, or fine-tuning on a fraction of the labels.",
        discussion: """
            Baselines from the same command: --baseline random-init --model <m> (an untrained encoder), --baseline raw-pixels. \
            Fine-tuning tries every learning rate of --finetune-lr with each head (random, probe) and chooses the one with the best \
            accuracy on training images held out from the labelled subset (--held-out); the test set is reported for each but never \
            takes part in the choice.
            """)

    enum Baseline: String, ExpressibleByArgument, CaseIterable { case randomInit = "random-init", rawPixels = "raw-pixels" }
    enum LabelFraction: String, ExpressibleByArgument, CaseIterable {
        case one = "1%", ten = "10%", all = "100%"
        var value: Double { self == .one ? 0.01 : self == .ten ? 0.1 : 1 }
    }

    @Argument(help: "A checkpoint written by graft train.") var checkpoint: String?
    @Option(name: .long, help: "linear, knn, finetune, or all (linear and knn).") var `protocol` = "all"
    @Option(name: .long, help: "Labels used by finetune: 1%, 10% or 100%.") var labels: LabelFraction = .ten
    @Option(name: .long, help: "Evaluate a baseline instead of a checkpoint: random-init or raw-pixels.") var baseline: Baseline?
    @Option(name: .long, help: "The model whose encoder a random-init baseline uses.") var model = "byol-t"
    @Option(name: .long, help: "Dataset directory.") var data = "/usr/share/datasets/fashion-mnist"
    @Option(name: .long, parsing: .unconditional, help: "Epochs of the linear probe.") var probeEpochs = 30
    @Option(name: .long, parsing: .unconditional, help: "Epochs of fine-tuning.") var finetuneEpochs = 20
    @Option(name: .long, parsing: .unconditional,
            help: "Fine-tuning's learning rate, or comma-separated rates to choose among on the held-out images (default: \(FineTuneSetting.defaultLearningRates.map { "\($0)" }.joined(separator: ","))).")
    var finetuneLr: String?
    @Option(name: .long, help: "Fix the classifier fine-tuning starts from: random, or probe (the linear probe of the labelled subset's frozen features, LP-FT); default: choose on the held-out images.")
    var finetuneHead: FineTuneHead?
    @Option(name: .long, parsing: .unconditional, help: "Training images held out to choose fine-tuning's setting (default: a twelfth, 5000 of 60000).")
    var heldOut: Int?
    @Option(name: .long, parsing: .unconditional, help: "Evaluate on the first N training images only (0: all).") var trainImages = 0
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Flag(name: .long, help: "Also evaluate the random-init encoder and raw pixels the same way, and print a table.")
    var withBaselines = false

    func validate() throws {
        guard (checkpoint != nil) != (baseline != nil) else {
            throw ValidationError("give either a checkpoint or --baseline random-init|raw-pixels")
        }
        guard ["linear", "knn", "finetune", "all"].contains(`protocol`) else {
            throw ValidationError("--protocol must be linear, knn, finetune or all, got '\(`protocol`)'")
        }
        if baseline == .randomInit, ModelCatalog.model(named: model) == nil {
            throw ValidationError("unknown model '\(model)' for --baseline random-init")
        }
        for (flag, value) in [("--probe-epochs", probeEpochs), ("--finetune-epochs", finetuneEpochs)] where !(1...10_000).contains(value) {
            throw ValidationError("\(flag) must be between 1 and 10000, got \(value)")
        }
        guard (0...TrainingOptions.limits.images).contains(trainImages) else {
            throw ValidationError("--train-images must be between 0 and \(TrainingOptions.limits.images), got \(trainImages)")
        }
        if let heldOut, !(1...TrainingOptions.limits.images).contains(heldOut) {
            throw ValidationError("--held-out must be between 1 and \(TrainingOptions.limits.images), got \(heldOut)")
        }
        _ = try fineTuneLearningRates()
        if let checkpoint { try asValidation { try RegularFile.check(checkpoint, what: "the checkpoint") } }
    }

    func run() throws {
        do {
            let (source, label) = try featureSource()
            var train = try Dataset.load(directory: data, split: .train)
            if trainImages > 0 { train = train.prefix(trainImages) }
            let test = try Dataset.load(directory: data, split: .test)
            try checkData(source, train: train, test: test, label: label)
            var results: [String: Any] = ["model": label]
            if `protocol` == "finetune" {
                guard case .encoder(let config, let variables) = source else {
                    throw Diagnostic("fine-tuning needs an encoder; raw pixels have none")
                }
                let selection = try Evaluation.fineTune(encoder: config, variables: variables, train: train, test: test,
                                                        split: try fineTuneSplit(train), settings: try fineTuneSettings(),
                                                        epochs: finetuneEpochs) { line in
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                results["finetune_\(labels.rawValue)"] = selection.testAccuracy
                if json { results["finetune_selection"] = selectionObject(selection) } else { printSelection(selection) }
                try report([(label, results)])
                return
            }
            let protocols: Set<EvaluationProtocol> = `protocol` == "all" ? [.linear, .knn] : [EvaluationProtocol(rawValue: `protocol`)!]
            var rows: [(String, [String: Any])] = []
            var sources = [(label, source)]
            if withBaselines {
                let encoder: ResNetConfig
                if case .encoder(let config, _) = source { encoder = config } else { encoder = ModelCatalog.model(named: model)!.encoder }
                sources.append(("random-init encoder", .encoder(encoder, try EncoderFeatures.trace(encoder, batchSize: 1).initialValues)))
                sources.append(("raw pixels", .rawPixels))
            }
            for (name, source) in sources {
                FileHandle.standardError.write(Data("evaluating \(name)...\n".utf8))
                var row: [String: Any] = ["model": name]
                for (key, value) in try Evaluation.linearAndKNN(source, train: train, test: test, probe: LinearProbe(epochs: probeEpochs),
                                                                protocols: protocols) {
                    row[key] = value
                }
                rows.append((name, row))
            }
            try report(rows)
        } catch {
            exitWithDiagnostic(error)
        }
    }

    /// The learning rates `--finetune-lr` gives, or the default grid.
    func fineTuneLearningRates() throws -> [Double] {
        guard let finetuneLr else { return FineTuneSetting.defaultLearningRates }
        let rates = finetuneLr.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !rates.isEmpty, rates.allSatisfy({ $0.map { $0.isFinite && $0 > 0 && $0 <= 1e6 } == true }) else {
            throw ValidationError("--finetune-lr must be one or more comma-separated learning rates, each a finite number in (0, 1000000], got '\(finetuneLr)'")
        }
        return rates.map { $0! }
    }

    /// The settings fine-tuning chooses among: every learning rate with every head, less
    /// what `--finetune-lr` and `--finetune-head` fix.
    func fineTuneSettings() throws -> [FineTuneSetting] {
        FineTuneSetting.grid(learningRates: try fineTuneLearningRates(), heads: finetuneHead.map { [$0] } ?? FineTuneHead.allCases)
    }

    /// The held-out images and the labelled subset of `train`: the same split whether or not
    /// there is anything to choose, so a fixed setting reproduces its row of the full table.
    func fineTuneSplit(_ train: Dataset) throws -> FineTuneSplit {
        let count = heldOut ?? FineTuneSplit.defaultHeldOut(trainingImages: train.count)
        guard count < train.count else {
            throw Diagnostic("--held-out \(count) leaves no training images to fine-tune on: \(train.name) has \(train.count); hold out fewer")
        }
        do {
            return try FineTuneSplit(train, labelFraction: labels.value, heldOut: count)
        } catch var error as Diagnostic {
            error.notes.append("--held-out \(count) and --labels \(labels.rawValue) need more images; lower one of them")
            throw error
        }
    }

    /// The selection as JSON: every candidate and the chosen setting.
    func selectionObject(_ selection: FineTuneSelection) -> [String: Any] {
        let candidates: [[String: Any]] = selection.candidates.map { candidate in
            var object: [String: Any] = ["learning_rate": candidate.setting.learningRate, "head": candidate.setting.head.rawValue]
            object["held_out"] = candidate.accuracy?.heldOut ?? NSNull()
            object["test"] = candidate.accuracy?.test ?? NSNull()
            return object
        }
        return ["candidates": candidates, "learning_rate": selection.chosen.setting.learningRate, "head": selection.chosen.setting.head.rawValue,
                "held_out_images": selection.heldOutImages, "labelled_images": selection.labelledImages]
            .merging(selection.edgeWarning.map { ["warning": $0] } ?? [:]) { $1 }
    }

    /// Prints every candidate's accuracies, the chosen one marked.
    func printSelection(_ selection: FineTuneSelection) {
        print("fine-tuning on \(selection.labelledImages) labelled images, the setting chosen on \(selection.heldOutImages) held-out images")
        print("lr        head    held-out  test")
        for (index, candidate) in selection.candidates.enumerated() {
            let cells = ["\(candidate.setting.learningRate)".padding(toLength: 8, withPad: " ", startingAt: 0),
                         candidate.setting.head.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0),
                         Evaluation.percent(candidate.accuracy?.heldOut).padding(toLength: 8, withPad: " ", startingAt: 0),
                         Evaluation.percent(candidate.accuracy?.test).padding(toLength: 8, withPad: " ", startingAt: 0)]
            print(cells.joined(separator: "  ") + (index == selection.chosenIndex ? "  <- chosen" : ""))
        }
        if let warning = selection.edgeWarning { print("note: \(warning)") }
        print("")
    }

    /// Prints the results: JSON (one object, or an array with baselines) or a table.
    func report(_ rows: [(String, [String: Any])]) throws {
        if json {
            let object: Any = rows.count == 1 ? rows[0].1 : rows.map(\.1)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let keys = Array(Set(rows.flatMap { $0.1.keys }).subtracting(["model"])).sorted()
        let names = ["linear": "linear probe", "knn20": "kNN k=20", "knn200": "kNN k=200"]
        let width = Swift.max(24, rows.map(\.0.count).max() ?? 0)
        print("representation".padding(toLength: width, withPad: " ", startingAt: 0) + keys.map { "  " + (names[$0] ?? $0).padding(toLength: 13, withPad: " ", startingAt: 0) }.joined())
        for (name, row) in rows {
            let cells = keys.map { key in
                "  " + ((row[key] as? Double).map { String(format: "%.2f%%", $0 * 100) } ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0)
            }
            print(name.padding(toLength: width, withPad: " ", startingAt: 0) + cells.joined())
        }
    }

    /// Refuses data the source cannot be measured on: empty sets, train and test images of
    /// different shapes, images the encoder does not take.
    func checkData(_ source: FeatureSource, train: Dataset, test: Dataset, label: String) throws {
        if case .encoder(let config, _) = source {
            for dataset in [train, test] { try EncoderCheckpoint.checkData(dataset, encoder: config, model: label) }
        }
        for dataset in [train, test] where dataset.count == 0 {
            throw Diagnostic("\(dataset.name) holds no images; evaluation needs a training and a test set with images")
        }
        guard [train.channels, train.height, train.width] == [test.channels, test.height, test.width] else {
            throw Diagnostic("\(train.name) has \(train.channels)×\(train.height)×\(train.width) images but \(test.name) has \(test.channels)×\(test.height)×\(test.width); use the two splits of one dataset")
        }
    }

    func featureSource() throws -> (FeatureSource, String) {
        switch baseline {
        case .rawPixels: return (.rawPixels, "raw-pixels")
        case .randomInit:
            let entry = ModelCatalog.model(named: model)!
            let traced = try EncoderFeatures.trace(entry.encoder, batchSize: 1)
            return (.encoder(entry.encoder, traced.initialValues), "random-init \(model)")
        case nil:
            let path = checkpoint!
            let file = try Checkpoint.read(from: path)
            let options = try TrainingCheckpoint.options(of: file, path: path)
            guard let entry = ModelCatalog.model(named: options.model) else {
                throw Diagnostic("'\(path)' was trained as '\(options.model)', which this graft does not declare")
            }
            let variables = try EncoderCheckpoint.variables(of: file, path: path, encoder: entry.encoder, model: options.model)
            return (.encoder(entry.encoder, variables), options.model)
        }
    }
}
