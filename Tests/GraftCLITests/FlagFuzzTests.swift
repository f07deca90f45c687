// FlagFuzzTests: random values (huge, negative, infinite, not numbers, odd paths) for the
// command line's flags never crash or hang `graft`, and every refusal names its flag or file.

import Testing
import Foundation
import GraftTestSupport

@Suite struct FlagFuzzTests {
    /// Values beside `Mutate.numbers`: not numbers, and paths that are not writable files.
    static let otherValues = ["", "abc", "-", "--", "1x", "0x10", " 1", "/", "/etc", "/nonexistent-graft/dir/file", "/dev/null", "10%"]

    @Test func randomFlagValuesAreRefusedNamingTheFlagOrRunCleanly() throws {
        let campaign = FuzzCampaign("flags", defaultCases: 40)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let graph = directory.appendingPathComponent("tiny.gir").path
        try "graph @tiny(%x: f32[2], %k: i32[2]) -> (f32[]) {\n  %0 = reduce_sum(%x) {axes = [0]} : f32[]\n  return %0 : f32[]\n}\n"
            .write(toFile: graph, atomically: true, encoding: .utf8)
        // Each command's other arguments make it fail fast, naming a file, once its flags pass.
        let missing = "/nonexistent-graft-data"
        let commands: [(base: [String], flags: [String])] = [
            (["train", "byol-t", "--data", missing, "--out", directory.appendingPathComponent("out").path],
             ["--epochs", "--batch-size", "--lr", "--warmup-epochs", "--tau-base", "--seed", "--checkpoint-every", "--knn-train",
              "--knn-test", "--train-images", "--stop-at-step", "--min-crop-scale", "--weight-decay", "--augmentations", "--out"]),
            (["experiment", "collapse", "--data", missing, "--runs", directory.appendingPathComponent("runs").path,
              "--results", directory.appendingPathComponent("results").path],
             ["--epochs", "--train-images", "--seed", "--runs", "--results"]),
            (["eval", "--baseline", "raw-pixels", "--data", missing],
             ["--probe-epochs", "--finetune-epochs", "--train-images", "--labels", "--protocol", "--finetune-lr", "--finetune-head", "--held-out"]),
            (["dump", "byol-t", "--stage", "traced"], ["--batch-size", "--seed"]),
            (["bench", "byol-t", "--steps", "0"], ["--batch-size", "--threads"]),
            (["run", graph, "--interpreter"], ["--index-bound", "--seed", "--output"]),
            (["export", missing + ".safetensors"], ["--output"]),
            (["plot", missing + ".jsonl"], ["--output"]),
        ]
        let values = Mutate.numbers + FlagFuzzTests.otherValues
        var outcomes: [String: Int] = [:]
        defer { campaign.report(outcomes) }
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            let command = commands.randomElement(using: &random)!
            let flag = command.flags.randomElement(using: &random)!
            var value = values.randomElement(using: &random)!
            // A relative output path would be written in the working directory: keep it in ours.
            if ["--output", "--out", "--runs", "--results"].contains(flag), !value.isEmpty, !value.hasPrefix("/") { value = directory.appendingPathComponent(value).path }
            let arguments = command.base + [flag, value]
            let result = try runProgram(try graftBinary(), arguments, timeout: 60)
            let label = "\(campaign.label(index)): graft \(arguments.joined(separator: " "))"
            #expect(result.status < 124, "\(label) exited \(result.status) (a hang, a trap or a signal)\n\(result.stderr.suffix(2000))")
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("bug in Graft"), "\(label)\n\(result.stderr.suffix(2000))")
            guard result.status != 0 else { outcomes["ran", default: 0] += 1; continue }
            outcomes["refused", default: 0] += 1
            let named = command.base.contains { $0.hasPrefix("/") && result.stderr.contains($0) } || result.stderr.contains(flag)
                || result.stderr.contains(flag.dropFirst(2) + " <")   // ArgumentParser: "… for '--epochs <epochs>'"
            #expect(result.stderr.lowercased().contains("error") && named, "\(label): the error names neither \(flag) nor a file\n\(result.stderr)")
        }
    }
}
