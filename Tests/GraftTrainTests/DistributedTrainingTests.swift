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

extension DistributedTrainingTests {
    /// `mpirun -np 2 graft bench` times one replica's step of the global batch; rank 0 alone
    /// prints, and a batch that does not split is refused.
    @Test(.enabled(if: which("mpirun") != nil, "Open MPI's mpirun is not installed: run `make deps`"))
    func benchUnderMPIRunTimesTheDataParallelStep() throws {
        let graft = try graftBinary(), mpirun = try #require(which("mpirun"))
        let launch = ["--allow-run-as-root", "--oversubscribe", "-np", "2", graft.path, "bench", "byol-t", "--steps", "1", "--json"]
        let result = try runProgram(mpirun, launch + ["--batch-size", "8"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stdout)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(figures["ranks"] as? Int == 2 && figures["batch_size"] as? Int == 8 && (figures["threads"] as? Int ?? 0) >= 1, "\(figures)")
        let odd = try runProgram(mpirun, launch + ["--batch-size", "9"])
        #expect(odd.status != 0 && odd.stderr.contains("does not split evenly across 2 ranks"), "\(odd.stderr)")
    }

    /// A rank killed mid-run ends the job: mpirun names it, rank 0 says which step its last
    /// checkpoint holds and how to resume, and that checkpoint resumes (in one process).
    @Test(.enabled(if: which("mpirun") != nil, "Open MPI's mpirun is not installed: run `make deps`"))
    func aRankThatDiesEndsTheJobAndTheCheckpointResumes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-mpi-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 256, test: 64)
        let graft = try graftBinary(), mpirun = try #require(which("mpirun"))
        let out = root.appendingPathComponent("run"), log = root.appendingPathComponent("stderr").path
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        let pid = try startProgram(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", "2", graft.path, "train", "byol-t",
                                            "--data", data.path, "--epochs", "50", "--batch-size", "32", "--knn-train", "0",
                                            "--checkpoint-every", "2", "--out", out.path], stderr: log)
        // Once checkpoints are being written, SIGKILL rank 1 (found by its environment).
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)
        let rank1 = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).first { process in
            let environment = FileManager.default.contents(atPath: "/proc/\(process)/environ") ?? Data()
            let command = String(decoding: FileManager.default.contents(atPath: "/proc/\(process)/cmdline") ?? Data(), as: UTF8.self)
            return command.contains(out.path) && environment.split(separator: 0).contains(Data("OMPI_COMM_WORLD_RANK=1".utf8))
        }
        let victim = try #require(rank1, "rank 1 of the job was not found")
        kill(victim, SIGKILL)
        let status = wait(pid)
        let stderr = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        #expect(status != 0, "\(stderr)")
        #expect(stderr.contains("rank 1"), "mpirun names the rank that died: \(stderr)")
        // Rank 0's notice names the checkpoint's step, which the file holds.
        let notice = try #require(stderr.firstRange(of: /is intact and holds step (\d+); continue with `mpirun -np N graft train --resume ([^`]+)`/),
                                  "\(stderr)")
        let saved = try #require(Int(stderr[notice].firstMatch(of: /step (\d+)/)!.1))
        #expect(stderr[notice].hasSuffix("--resume \(checkpoint.path)`"))
        #expect(try readU64Safetensors(checkpoint)["graft.step"] == [UInt64(saved)])
        #expect(saved >= 2 && saved % 2 == 0, "\(stderr)")
        let resumed = try runProgram(graft, ["train", "--resume", checkpoint.path, "--stop-at-step", "\(saved + 1)"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("stopped at step \(saved + 1) as asked"), "\(resumed.stderr)")
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
