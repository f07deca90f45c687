// PlotCommand: `graft plot <metrics.jsonl> -o DIR` draws the training curves as SVG.

import Graft
import ArgumentParser
import Foundation

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Draw loss, kNN accuracy and z-std curves of a metrics log as SVG files.")

    @Argument(help: "A metrics.jsonl written by graft train.") var metrics: String
    @Option(name: .shortAndLong, help: "Directory for loss.svg, knn.svg and z_std.svg.") var output = "."

    func validate() throws {
        try validateOutputDirectory(output, flag: "--output")
    }

    func run() throws {
        do {
            let records = try MetricsLog.read(metrics)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let charts = SVGPlot.charts(metrics: records)
            guard !charts.isEmpty else { throw Diagnostic("'\(metrics)' has no loss, knn_accuracy or z_std records to plot") }
            for (name, svg) in charts.sorted(by: { $0.key < $1.key }) {
                let path = (output as NSString).appendingPathComponent(name)
                try svg.write(toFile: path, atomically: true, encoding: .utf8)
                print("wrote \(path)")
            }
        } catch {
            exitWithDiagnostic(error)
        }
    }
}
