// ExperimentReport: an experiment's table in Markdown and its bar chart, from its runs'
// results (a run not measured yet reads "not run").

import Foundation

/// The Markdown table and SVG chart of an experiment.
public struct ExperimentReport {
    public var experiment: Experiment
    public var settings: ExperimentSettings
    /// The result of each run measured so far.
    public var results: [ExperimentRun: ExperimentResult]

    public init(experiment: Experiment, settings: ExperimentSettings, results: [ExperimentRun: ExperimentResult]) {
        self.experiment = experiment
        self.settings = settings
        self.results = results
    }

    /// The command that makes the report.
    public var command: String {
        var words = ["graft experiment", experiment.name, "--epochs \(settings.epochs)"]
        if settings.trainImages > 0 { words.append("--train-images \(settings.trainImages)") }
        if settings.seed != 0 { words.append("--seed \(settings.seed)") }
        return words.joined(separator: " ")
    }

    /// The linear probe of a method's run in a row, in percent.
    func probe(_ row: ExperimentRow, _ method: Int) -> Double? {
        results[row.runs[method]].map { $0.linearProbe * 100 }
    }

    /// The page: the claim, how the runs were made, the table.
    public var markdown: String {
        var models: [String] = []
        for model in experiment.rows.flatMap({ $0.runs.map(\.model) }) where !models.contains(model) { models.append(model) }
        let measured = results.values.first
        let images = measured.map { settings.trainImages > 0 ? "the first \(grouped($0.trainImages)) training images" : "all \(grouped($0.trainImages)) training images" }
            ?? (settings.trainImages > 0 ? "the first \(settings.trainImages) training images" : "all training images")
        let tests = measured.map { "the \(grouped($0.testImages)) test images" } ?? "the test images"
        var lines = [
            "# \(experiment.title)", "",
            "**The paper's claim.** \(experiment.claim)", "",
            "**These runs.** \(models.joined(separator: ", ")), \(settings.epochs) epoch\(settings.epochs == 1 ? "" : "s") on \(images), seed \(settings.seed): `make train`'s settings (LARS, learning rate \(ExperimentSettings.baseLearningRate) × batch / 128, crops of at least \(Int(ExperimentSettings.minimumCropScale * 100))% of the image, a warm-up of a tenth of the run). Each encoder is measured by `graft eval`'s linear probe and kNN on \(tests); z-std is the last logged collapse monitor (0 = collapsed, 1/√64 = 0.125 = perfectly spread). Δ: change of the linear probe from the row \"\(experiment.referenceRow)\". Made by `\(command)`; each run's files are in `runs/experiments/`.",
            "",
        ]
        let columns = ["linear probe", "Δ", "kNN k=20", "z-std"]
        let single = experiment.methods.count == 1
        let header = ["setting"] + experiment.methods.flatMap { method in columns.map { single ? $0 : "\(method) \($0)" } }
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + String(repeating: "---|", count: header.count))
        let reference = experiment.rows.first { $0.label == experiment.referenceRow }
        for row in experiment.rows {
            var cells = [row.label]
            for method in experiment.methods.indices {
                guard let result = results[row.runs[method]] else {
                    cells += ["not run", "", "", ""]
                    continue
                }
                var delta = ""
                if row.label != experiment.referenceRow, let base = reference.flatMap({ probe($0, method) }), let value = probe(row, method) {
                    delta = String(format: "%+.2f", value - base)
                }
                cells += [Evaluation.percent(result.linearProbe), delta, Evaluation.percent(result.knn20),
                          result.zStd.map { String(format: "%.3f", $0) } ?? ""]
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The linear probe of every row and method as a bar chart.
    public var chart: String {
        SVGPlot.barChart(title: experiment.title, yLabel: "linear probe accuracy (%)", groups: experiment.rows.map(\.label),
                         series: experiment.methods.indices.map { method in
                             SVGPlot.BarSeries(name: experiment.methods[method], values: experiment.rows.map { probe($0, method) })
                         })
    }

    /// `n` with a comma between groups of three digits: 60,000.
    func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var text = ""
        for (i, digit) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return (n < 0 ? "-" : "") + text
    }

    /// Writes `<name>.md` and `<name>.svg` into `directory`; returns their paths.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = (directory as NSString).appendingPathComponent(experiment.name)
        try markdown.write(toFile: base + ".md", atomically: true, encoding: .utf8)
        try chart.write(toFile: base + ".svg", atomically: true, encoding: .utf8)
        return [base + ".md", base + ".svg"]
    }
}
