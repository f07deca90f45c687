// `mpirun -np 2 graft train` against one process: the two ranks train byol-t on halves of each
// batch with cross-replica BatchNorm and reproduce the single-process run, also when they resume
// a run one process started (Docs/Distributed.md).

import Testing
import Foundation
import GraftTestSupport

/// The losses of a metrics log, in order.
private func losses(_ url: URL) throws -> [Double] {
    try String(decoding: Data(contentsOf: url), as: UTF8.self).split(separator: "\n").compactMap { line in
        (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
    }
}

@Suite(.serialized) struct DistributedTrainingTests {
    @Test(.enabled(if: which("mpirun") != nil, "Open MPI's mpirun is not installed: run `make deps`"))
    func twoRanksReproduceOneProcess() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-mpi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 96, test: 64)
        let graft = try graftBinary()
        // 3 steps of 32 images. Longer runs drift apart as any two float32 evaluations of this
        // step do (Docs/Distributed.md: a 1-ulp change of one pixel moves the loss by 1e-3
        // within 10 steps), so the check is over the steps where round-off has not grown.
        let arguments = ["train", "byol-t", "--data", data.path, "--epochs", "1", "--batch-size", "32", "--knn-train", "0",
                         "--seed", "3", "--lr", "1.0"]
        let single = try runProgram(graft, arguments + ["--out", root.appendingPathComponent("one").path])
        #expect(single.status == 0, "\(single.stderr)")
        let mpirun = try #require(which("mpirun"))
        let ranks = try runProgram(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "2", graft.path]
                                           + arguments + ["--out", root.appendingPathComponent("two").path])
        #expect(ranks.status == 0, "\(ranks.stderr)")
        // Rank 0 alone reports and writes.
        #expect(ranks.stdout.components(separatedBy: "trained byol-t").count == 2, "\(ranks.stdout)")

        let oneLosses = try losses(root.appendingPathComponent("one/metrics.jsonl"))
        let twoLosses = try losses(root.appendingPathComponent("two/metrics.jsonl"))
        #expect(!oneLosses.isEmpty && twoLosses.count == oneLosses.count, "\(oneLosses) \(twoLosses)")
        for (a, b) in zip(twoLosses, oneLosses) { #expect(abs(a - b) <= 1e-5 * abs(b), "loss \(a) with 2 ranks, \(b) in one process") }
        let one = try readF32Safetensors(root.appendingPathComponent("one/checkpoint.safetensors"))
        let two = try readF32Safetensors(root.appendingPathComponent("two/checkpoint.safetensors"))
        let (worst, worstName) = largestDifference(two, one)
        #expect(worst <= 1e-4, "after 3 steps the largest difference is \(worst), in \(worstName)")
        print("mpirun -np 2 graft train byol-t, 3 steps of 32: losses within \(zip(twoLosses, oneLosses).map { abs($0 - $1) / abs($1) }.max() ?? 0) relative, variables within \(worst) (\(worstName))")

        // A run stopped by one process at step 2 resumes on 2 ranks and ends where the
        // uninterrupted single-process run does.
        let split = root.appendingPathComponent("split")
        let first = try runProgram(graft, arguments + ["--out", split.path, "--stop-at-step", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try runProgram(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "2", graft.path, "train", "--resume",
                                              split.appendingPathComponent("checkpoint.safetensors").path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // It ran step 3 alone (a run that ignored the checkpoint would start at step 1 and
        // end at the same place).
        #expect(resumed.stderr.contains("step 3/3") && !resumed.stderr.contains("step 1/3") && !resumed.stderr.contains("step 2/3"),
                "\(resumed.stderr)")
        let (resumedWorst, resumedName) = largestDifference(try readF32Safetensors(split.appendingPathComponent("checkpoint.safetensors")), one)
        #expect(resumedWorst <= 1e-4, "resumed on 2 ranks, the largest difference is \(resumedWorst), in \(resumedName)")
    }
}

/// The largest difference between two files' tensors (relative to max(1, |b|)) and where it is.
private func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> (Double, String) {
    #expect(a.keys.sorted() == b.keys.sorted())
    var worst = 0.0, worstName = ""
    for (name, values) in b {
        for (x, y) in zip(a[name] ?? [], values) {
            let error = Double(abs(x - y)) / max(1, Double(abs(y)))
            if error > worst { (worst, worstName) = (error, name) }
        }
    }
    return (worst, worstName)
}
