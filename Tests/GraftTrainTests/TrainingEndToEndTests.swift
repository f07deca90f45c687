// A CI-sized training run through the `graft` binary: train, checkpoint, resume, evaluate, export.

import Testing
import Foundation
import GraftTestSupport

func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try runProgram(executable, arguments)
    return (result.status, result.stdout, result.stderr)
}

/// Writes a small Fashion-MNIST-shaped dataset (plain IDX files): each class a different
/// pattern of bars plus noise, so that even a few steps of training see structure.
func writeSmallDataset(to directory: URL, train: Int, test: Int) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var state: UInt64 = 12345
    func random() -> UInt8 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
    func bigEndian(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xff) } }
    for (prefix, count) in [("train", train), ("t10k", test)] {
        var images = bigEndian(0x0803) + bigEndian(count) + bigEndian(28) + bigEndian(28)
        var labels = bigEndian(0x0801) + bigEndian(count)
        for index in 0..<count {
            let label = index % 10
            labels.append(UInt8(label))
            for row in 0..<28 {
                for column in 0..<28 {
                    let bar = (column / 3) % 10 == label || (row / 3) % 10 == (label * 3) % 10
                    images.append(bar ? 200 &+ random() % 56 : random() % 40)
                }
            }
        }
        try Data(images).write(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
        try Data(labels).write(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
}

/// A metrics log without its timing fields, which differ between runs.
func metricsWithoutTiming(_ path: URL) throws -> [String] {
    String(decoding: try Data(contentsOf: path), as: UTF8.self).split(separator: "\n").map { line in
        var object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        for key in ["images_per_second", "step_seconds", "data_wait_fraction", "data_preparation_fraction"] { object.removeValue(forKey: key) }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

@Suite(.serialized) struct TrainingEndToEndTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-e2e-\(UUID().uuidString)")

    func train(_ out: URL, data: URL, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(try graftBinary(), ["train", "byol-t", "--data", data.path, "--epochs", "3", "--batch-size", "32",
                                    "--knn-train", "128", "--knn-test", "64", "--out", out.path, "--seed", "7"] + extra)
    }

    @Test func trainResumeEvaluateAndExport() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 256, test: 128)

        // 3 epochs × 8 steps, uninterrupted.
        let whole = root.appendingPathComponent("whole")
        let first = try train(whole, data: data)
        #expect(first.status == 0, "\(first.stderr)")
        let wholeMetrics = try metricsWithoutTiming(whole.appendingPathComponent("metrics.jsonl"))
        #expect(wholeMetrics.filter { $0.contains("\"knn_accuracy\"") }.count == 3)
        #expect(wholeMetrics.contains { $0.contains("\"z_std\"") && $0.contains("\"tau\"") && $0.contains("\"lr\"") })

        // The same run stopped at step 11 (mid-epoch) and resumed: identical metrics and params.
        let split = root.appendingPathComponent("split")
        let stopped = try train(split, data: data, ["--stop-at-step", "11"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let resumed = try run(try graftBinary(), ["train", "--resume", split.appendingPathComponent("checkpoint.safetensors").path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try metricsWithoutTiming(split.appendingPathComponent("metrics.jsonl")) == wholeMetrics)
        // Every param and state bit for bit (the checkpoints' metadata differ only in --out).
        var encoders: [Data] = []
        for directory in [whole, split] {
            let exported = directory.appendingPathComponent("encoder.safetensors")
            let export = try run(try graftBinary(), ["export", directory.appendingPathComponent("checkpoint.safetensors").path, "-o", exported.path])
            #expect(export.status == 0, "\(export.stderr)")
            encoders.append(try Data(contentsOf: exported))
        }
        #expect(encoders[0] == encoders[1])

        // Evaluation and export.
        let checkpoint = whole.appendingPathComponent("checkpoint.safetensors").path
        let eval = try run(try graftBinary(), ["eval", checkpoint, "--protocol", "knn", "--data", data.path, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let accuracy = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        #expect((accuracy?["knn200"] as? Double).map { $0 >= 0 && $0 <= 1 } == true)
        let probe = try run(try graftBinary(), ["eval", checkpoint, "--protocol", "linear", "--probe-epochs", "2", "--data", data.path, "--json"])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(probe.stdout.contains("\"linear\""))
        for head in ["random", "probe"] {
            let finetune = try run(try graftBinary(), ["eval", checkpoint, "--protocol", "finetune", "--labels", "10%", "--finetune-head", head,
                                                       "--finetune-epochs", "1", "--data", data.path, "--json"])
            #expect(finetune.status == 0, "\(finetune.stderr)")
            let tuned = try JSONSerialization.jsonObject(with: Data(finetune.stdout.utf8)) as? [String: Any]
            #expect((tuned?["finetune_10%"] as? Double).map { $0 >= 0 && $0 <= 1 } == true, "\(finetune.stdout)")
        }

        let exported = root.appendingPathComponent("encoder.safetensors")
        let export = try run(try graftBinary(), ["export", checkpoint, "-o", exported.path])
        #expect(export.status == 0, "\(export.stderr)")
        // An independent reader: Python's json and struct check names, shapes and values.
        let script = """
            import json, struct, sys
            def load(path):
                raw = open(path, 'rb').read()
                n = struct.unpack('<Q', raw[:8])[0]
                header = json.loads(raw[8:8 + n]); body = raw[8 + n:]
                meta = header.pop('__metadata__', {})
                out = {}
                for name, entry in header.items():
                    b, e = entry['data_offsets']
                    out[name] = (entry['dtype'], entry['shape'], body[b:e])
                return meta, out
            meta, encoder = load(sys.argv[1]); _, full = load(sys.argv[2])
            assert meta['model'] == 'byol-t', meta
            assert encoder['encoder.stem.conv.weight'][1] == [16, 1, 3, 3], encoder['encoder.stem.conv.weight'][1]
            assert not any(k.startswith('online.') or 'predictor' in k or 'projector' in k for k in encoder)
            for name, (dtype, shape, data) in encoder.items():
                assert dtype == 'F32'
                assert full['online.' + name] == (dtype, shape, data), name
            assert 'encoder.stage3.block0.bn2.running_var' in encoder
            print('ok', len(encoder))
            """
        let python = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, exported.path, checkpoint])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdout.hasPrefix("ok "))
    }

    @Test func killingTrainingDuringCheckpointWritesKeepsTheLastCheckpointReadable() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 256, test: 128)
        let out = root.appendingPathComponent("killed")
        let path = out.appendingPathComponent("checkpoint.safetensors").path
        for attempt in 0..<3 {
            let pid = try startProgram(try graftBinary(), ["train", "byol-t", "--data", data.path, "--epochs", "50", "--batch-size", "32",
                                                          "--knn-train", "0", "--out", out.path, "--checkpoint-every", "1", "--seed", "\(attempt)"])
            // Wait for checkpoints to be written continually, then SIGKILL at an arbitrary moment.
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: 0.3 + 0.37 * Double(attempt))
            kill(pid, SIGKILL)
            wait(pid)
            // Whatever was happening, the checkpoint at `path` is complete and resumable.
            let eval = try run(try graftBinary(), ["export", path, "-o", out.appendingPathComponent("e.safetensors").path])
            #expect(eval.status == 0, "attempt \(attempt): \(eval.stderr)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".tmp") }
            #expect(leftovers.count <= 1, "temporary files pile up: \(leftovers)")
        }
    }

    @Test func missingAndCorruptInputsAreRejectedWithTheFileNamed() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let graft = try graftBinary()
        let missing = try run(graft, ["train", "byol-t", "--data", root.appendingPathComponent("nowhere").path, "--epochs", "1"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("train-images-idx3-ubyte"))

        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 64, test: 32)
        let labels = data.appendingPathComponent("train-labels-idx1-ubyte")
        let bytes = try Data(contentsOf: labels)
        try bytes.prefix(bytes.count - 5).write(to: labels)   // truncated
        let truncated = try run(graft, ["train", "byol-t", "--data", data.path, "--epochs", "1", "--batch-size", "16"])
        #expect(truncated.status != 0)
        #expect(truncated.stderr.contains("train-labels-idx1-ubyte"))

        let garbage = root.appendingPathComponent("garbage.safetensors")
        try Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 2, 3]).write(to: garbage)
        let badCheckpoint = try run(graft, ["eval", garbage.path, "--data", data.path])
        #expect(badCheckpoint.status != 0)
        #expect(badCheckpoint.stderr.contains("garbage.safetensors"))
        let resume = try run(graft, ["train", "--resume", garbage.path])
        #expect(resume.status != 0)
        #expect(resume.stderr.contains("garbage.safetensors"))
    }
}
