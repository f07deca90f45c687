// ExperimentTests: `graft experiment` end to end on a small dataset: the table and chart it
// writes, results read back instead of retrained, an evaluation redone from a checkpoint, and
// SimCLR trained as the second method.

import Testing
import Foundation
import GraftTestSupport

@Suite(.serialized) struct ExperimentTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-experiment-\(UUID().uuidString)")

    func experiment(_ arguments: [String], data: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(try graftBinary(), ["experiment"] + arguments + ["--epochs", "1", "--data", data.path,
                                                                 "--runs", root.appendingPathComponent("runs").path,
                                                                 "--results", root.appendingPathComponent("results").path])
    }

    /// The directory of the run `graft experiment --list` describes as `prefix`.
    func runDirectory(_ listing: String, _ prefix: String) throws -> URL {
        let line = try #require(listing.split(separator: "\n").first { $0.hasPrefix("  \(prefix):") })
        return URL(fileURLWithPath: String(try #require(line.split(separator: " ").last)))
    }

    @Test func collapseTableIsWrittenReadBackAndReEvaluated() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 256, test: 64)

        let first = try experiment(["collapse"], data: data)
        #expect(first.status == 0, "\(first.stderr)")
        for model in ["byol-t", "byol-t-no-predictor", "byol-t-tau0", "byol-t-tau1"] {
            #expect(first.stderr.contains("training \(model), batch 128 in "), "\(first.stderr)")
        }
        let table = root.appendingPathComponent("results/collapse.md")
        var markdown = try String(contentsOf: table, encoding: .utf8)
        #expect(markdown.hasPrefix("# BYOL against no predictor, τ = 0 and τ = 1\n"))
        #expect(markdown.contains("1 epoch on all 256 training images, seed 0"))
        #expect(markdown.contains("on the 64 test images"))
        #expect(markdown.contains("Made by `graft experiment collapse --epochs 1`"))
        #expect(markdown.contains("| setting | linear probe | Δ | kNN k=20 | z-std |"))
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("%") }
        #expect(rows.map { $0.split(separator: "|")[0].trimmingCharacters(in: .whitespaces) } == ["BYOL", "no predictor", "τ = 0", "τ = 1"])
        let chart = try String(contentsOf: root.appendingPathComponent("results/collapse.svg"), encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.components(separatedBy: "fill=\"#2060c0\"").count == 4 + 1 + 1)   // 4 bars, the legend

        // The stored results are read back: nothing is trained or evaluated again, and an
        // edited result shows in the table with its change from the reference row.
        let listing = try experiment(["collapse", "--list"], data: data).stdout
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: try runDirectory(listing, "byol-t, batch 128").appendingPathComponent("result.json"))) as! [String: Any]
        let tauZero = try runDirectory(listing, "byol-t-tau0, batch 128").appendingPathComponent("result.json")
        var result = try JSONSerialization.jsonObject(with: Data(contentsOf: tauZero)) as! [String: Any]
        result["linear_probe"] = (reference["linear_probe"] as! Double) - 0.1234
        try JSONSerialization.data(withJSONObject: result).write(to: tauZero)
        let second = try experiment(["collapse"], data: data)
        #expect(second.status == 0 && !second.stderr.contains("training") && !second.stderr.contains("evaluating"), "\(second.stderr)")
        markdown = try String(contentsOf: table, encoding: .utf8)
        #expect(markdown.contains("| τ = 0 | \(String(format: "%.2f", (reference["linear_probe"] as! Double - 0.1234) * 100))% | -12.34 |"), "\(markdown)")

        // A run whose result is gone is evaluated again from its checkpoint, not retrained.
        try FileManager.default.removeItem(at: tauZero)
        let third = try experiment(["collapse"], data: data)
        #expect(third.status == 0 && third.stderr.contains("evaluating byol-t-tau0, batch 128") && !third.stderr.contains("training"), "\(third.stderr)")

        // Another table sharing the reference run lists it as measured, the rest as not run.
        let batchListing = try experiment(["batch-size", "--list"], data: data).stdout
        #expect(batchListing.contains("  byol-t, batch 128: linear probe "), "\(batchListing)")
        #expect(batchListing.contains("  simclr-t, batch 32: not run"), "\(batchListing)")
    }

    @Test func simclrTrainsAsOneReplicaAndBadExperimentsAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 64, test: 32)
        let binary = try graftBinary()
        let simclr = try run(binary, ["train", "simclr-t", "--data", data.path, "--epochs", "1", "--batch-size", "32", "--knn-train", "0",
                                      "--augmentations", "crop,color", "--out", root.appendingPathComponent("simclr").path])
        #expect(simclr.status == 0, "\(simclr.stderr)")
        // Its loss compares every image with every other: one process, one replica.
        #expect(simclr.stderr.contains("training simclr-t on ") && !simclr.stderr.contains("replicas"), "\(simclr.stderr)")
        let byol = try run(binary, ["train", "byol-t", "--data", data.path, "--epochs", "1", "--batch-size", "32", "--knn-train", "0",
                                    "--out", root.appendingPathComponent("byol").path])
        #expect(byol.status == 0 && byol.stderr.contains("as 2 replicas of 16"), "\(byol.stderr)")

        let refusals: [([String], String)] = [
            (["train", "simclr-t", "--augmentations", "crop,colour"], "--augmentations: unknown augmentation 'colour'"),
            (["experiment", "ablations"], "unknown experiment 'ablations'; the experiments are: collapse, batch-size, augmentations (or all)"),
            (["experiment"], "name an experiment: collapse, batch-size, augmentations, or all"),
            (["experiment", "collapse", "--epochs", "0"], "--epochs must be between 1 and 1000000, got 0"),
        ]
        for (arguments, message) in refusals {
            let result = try run(binary, arguments + ["--data", data.path])
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
