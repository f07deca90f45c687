// ExperimentCommand: `graft experiment <name>` trains and evaluates an ablation's runs and
// writes its table and chart to Docs/results/.

import Graft
import ArgumentParser
import Foundation

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run one of the paper's ablations in miniature and write its table and chart.",
        discussion: """
            Experiments: \(Experiment.all.map(\.name).joined(separator: ", ")) (or all). Each run trains in its own \
            directory under --runs and is evaluated by the linear probe and kNN; a finished run is not trained again, \
            an interrupted one resumes. Writes <results>/<name>.md and <name>.svg.
            """)

    @Argument(help: "The experiment: \(Experiment.all.map(\.name).joined(separator: ", ")), or all.") var name: String?
    @Option(name: .long, help: "Dataset directory (default: \(TrainCommand.defaultData)).") var data = TrainCommand.defaultData
    @Option(name: .long, parsing: .unconditional, help: "Epochs of every training run (default: 2).") var epochs = 2
    @Option(name: .long, parsing: .unconditional, help: "Train on the first N training images (0: all, the default).") var trainImages = 0
    @Option(name: .long, parsing: .unconditional, help: "Seed of every run (default: 0).") var seed: UInt64 = 0
    @Option(name: .long, help: "Directory of the runs (default: runs/experiments).") var runs = "runs/experiments"
    @Option(name: .long, help: "Directory of the tables and charts (default: Docs/results).") var results = "Docs/results"
    @Flag(name: .long, help: "List the experiments' runs and which are measured; train nothing.") var list = false

    var experiments: [Experiment] {
        name == "all" ? Experiment.all : name.flatMap(Experiment.named).map { [$0] } ?? []
    }

    var settings: ExperimentSettings {
        ExperimentSettings(dataDirectory: data, epochs: epochs, trainImages: trainImages, seed: seed)
    }

    func validate() throws {
        let known = Experiment.all.map(\.name).joined(separator: ", ")
        guard let name else {
            if list { return }
            throw ValidationError("name an experiment: \(known), or all")
        }
        guard name == "all" || Experiment.named(name) != nil else {
            throw ValidationError("unknown experiment '\(name)'; the experiments are: \(known) (or all)")
        }
        // Every run's options follow TrainingOptions' rules; the first run's show a bad flag.
        if let run = experiments.first?.runs.first, let problem = settings.options(for: run, outputDirectory: runs).problem {
            throw ValidationError(problem)
        }
        try validateOutputDirectory(runs, flag: "--runs")
        try validateOutputDirectory(results, flag: "--results")
    }

    func run() throws {
        let runner = ExperimentRunner(settings: settings, directory: runs) { line in
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
        do {
            for experiment in name == nil ? Experiment.all : experiments {
                if list {
                    print("\(experiment.name): \(experiment.title)")
                    for run in experiment.runs {
                        let stored = try runner.storedResult(of: run)
                        print("  \(runner.describe(run)): \(stored.map { "linear probe \(Evaluation.percent($0.linearProbe))" } ?? "not run")  \(runner.options(for: run).outputDirectory)")
                    }
                    continue
                }
                var results: [ExperimentRun: ExperimentResult] = [:]
                for run in experiment.runs { results[run] = try runner.result(of: run) }
                let report = ExperimentReport(experiment: experiment, settings: settings, results: results)
                for path in try report.write(to: self.results) { print("wrote \(path)") }
            }
        } catch let interrupted as TrainingInterrupted {
            FileHandle.standardError.write(Data("\(interrupted)\nrun the same command again to resume\n".utf8))
            throw ExitCode(130)
        } catch {
            exitWithDiagnostic(error)
        }
    }
}
