// BadInputTests: every kind of bad input to `graft train`, `eval` and `export` is refused with
// an error naming its flag or file, before any work starts where it can be: flags, the options
// a checkpoint stores, files that are not regular files, incomplete checkpoints, empty or
// mismatched data. One regression case per class of the crashes and silent results found by
// an outside campaign; and a resumed run writes the same bytes every time.

import Testing
import Foundation
import GraftTestSupport

/// Rewrites a safetensors file with Python (an independent reader and writer): `options` sets
/// keys of the run's options JSON, `step` the `graft.step` tensor, `drop` removes the tensors
/// whose names start with it.
func editCheckpoint(_ source: String, to destination: String, options: [String: String] = [:], step: UInt64? = nil, drop: String? = nil) throws {
    let script = """
        import json, struct, sys
        src, dst, options, step, drop = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
        raw = open(src, 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n]); body = raw[8 + n:]
        meta = header.pop('__metadata__')
        run = json.loads(meta['options'])
        for key, value in options.items(): run[key] = json.loads(value)
        meta['options'] = json.dumps(run)
        if step:
            b, e = header['graft.step']['data_offsets']; body = body[:b] + struct.pack('<Q', int(step)) + body[e:]
        out, data = {'__metadata__': meta}, b''
        for name in sorted(header):
            if drop and name.startswith(drop): continue
            b, e = header[name]['data_offsets']
            out[name] = dict(header[name], data_offsets=[len(data), len(data) + e - b]); data += body[b:e]
        text = json.dumps(out).encode(); text += b' ' * (-len(text) % 8)
        open(dst, 'wb').write(struct.pack('<Q', len(text)) + text + data)
        """
    let optionsJSON = String(decoding: try JSONSerialization.data(withJSONObject: options), as: UTF8.self)
    let result = try runProgram(URL(fileURLWithPath: "/usr/bin/env"),
                                ["python3", "-c", script, source, destination, optionsJSON, step.map(String.init) ?? "", drop ?? ""])
    guard result.status == 0 else { throw SubprocessError("editing \(source) failed: \(result.stderr)") }
}

/// The SHA-256 of a file, in hex, by coreutils' sha256sum.
func sha256(_ path: String) throws -> String {
    let result = try runProgram(URL(fileURLWithPath: "/usr/bin/env"), ["sha256sum", path])
    guard result.status == 0, let digest = result.stdout.split(separator: " ").first else { throw SubprocessError("sha256sum \(path): \(result.stderr)") }
    return String(digest)
}

@Suite(.serialized) struct BadInputTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bad-\(UUID().uuidString)")
    var data: URL { root.appendingPathComponent("data") }

    /// Runs graft, expecting it to fail with `message` in its standard error.
    func refuses(_ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try runProgram(try graftBinary(), arguments, timeout: 60)
        #expect(result.status != 0 && result.status < 124, "\(arguments) exited \(result.status)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("bug in Graft"), sourceLocation: sourceLocation)
    }

    /// A byol-t run of 2 epochs × 2 steps stopped after step 1, made twice in one directory by
    /// two processes: the checkpoint the cases edit, and the SHA-256 of each run's checkpoint.
    func stoppedRun() throws -> (checkpoint: String, digests: [String]) {
        try writeSmallDataset(to: data, train: 32, test: 16)
        let out = root.appendingPathComponent("run")
        var digests: [String] = []
        for _ in 0..<2 {
            try? FileManager.default.removeItem(at: out)
            let result = try runProgram(try graftBinary(), ["train", "byol-t", "--data", data.path, "--epochs", "2", "--batch-size", "16",
                                                            "--knn-train", "0", "--out", out.path, "--stop-at-step", "1"], timeout: 300)
            guard result.status == 0 else { throw SubprocessError("training failed: \(result.stderr)") }
            digests.append(try sha256(out.appendingPathComponent("checkpoint.safetensors").path))
        }
        return (out.appendingPathComponent("checkpoint.safetensors").path, digests)
    }

    @Test func flagsOutOfRangeAreRefusedBeforeAnyWork() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writeSmallDataset(to: data, train: 32, test: 16)
        let file = root.appendingPathComponent("file").path
        try Data().write(to: URL(fileURLWithPath: file))
        let train = ["train", "byol-t", "--data", data.path]
        try refuses(train + ["--epochs", "9223372036854775807"], "--epochs must be between 1 and 1000000, got 9223372036854775807")
        try refuses(train + ["--epochs", "-3"], "--epochs must be between 1 and 1000000, got -3")
        try refuses(train + ["--warmup-epochs", "inf"], "--warmup-epochs must be a finite number in [0.0, 10.0], got inf")
        try refuses(train + ["--lr", "nan"], "--lr must be a finite number")
        try refuses(train + ["--out", file], "--out '\(file)' exists and is not a directory")
        try refuses(train + ["--out", file + "/sub"], "is not a directory, so the directory cannot be created")
        try refuses(["export", "/nonexistent.safetensors", "-o", ""], "--output is empty; give a file name")   // found by FlagFuzzTests
        try refuses(["dump", "byol-t", "--batch-size", "4611686018427387904"], "--batch-size must be between 1 and 65536, got 4611686018427387904")
        try refuses(["bench", "byol-t", "--batch-size", "1099511627776"], "--batch-size must be between 1 and 65536")
        try refuses(["eval", "--baseline", "raw-pixels", "--data", "/nonexistent", "--probe-epochs", "4611686018427387904"], "--probe-epochs must be between 1 and 10000")
    }

    @Test func checkpointsAreCheckedLikeFlagsCompleteForTheirUseAndByteDeterministic() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (checkpoint, digests) = try stoppedRun()
        // Two processes (each with its own hash seed, so its own dictionary order) wrote the
        // same state: the same bytes.
        #expect(digests[0] == digests[1], "two runs of the same options wrote different checkpoint bytes")
        let edited = root.appendingPathComponent("edited.safetensors").path
        // The options stored in a checkpoint follow the rules of the flags.
        for (key, value, message) in [("batchSize", "0", "--batch-size must be between 2 and 65536, got 0"),
                                      ("minimumCropScale", "2", "--min-crop-scale must be a finite number in (0.0, 1.0], got 2.0"),
                                      ("warmupEpochs", "-1", "--warmup-epochs must be a finite number in [0.0, 2.0], got -1.0")] {
            try editCheckpoint(checkpoint, to: edited, options: [key: value])
            try refuses(["train", "--resume", edited], "'\(edited)': the run's options stored in it are invalid: \(message)")
        }
        try editCheckpoint(checkpoint, to: edited, step: 1 << 63)
        try refuses(["train", "--resume", edited], "'\(edited)' is at step 9223372036854775808, past the 4 steps of its run")
        try editCheckpoint(checkpoint, to: edited, step: 4)
        try refuses(["train", "--resume", edited], "'\(edited)' is a finished run: it took all 4 steps of its 2 epochs")
        // A resumed run continues its own options: flags that would change them are an error.
        try refuses(["train", "--resume", checkpoint, "--epochs", "5", "--data", data.path],
                    "--data, --epochs cannot be combined with --resume")
        try refuses(["train", "byol-s", "--resume", checkpoint], "is a run of byol-t, not byol-s")
        // A checkpoint missing encoder tensors is refused, naming them, by eval and export.
        try editCheckpoint(checkpoint, to: edited, drop: "online.encoder.stage3")
        for command in [["eval", edited, "--data", data.path], ["export", edited, "-o", root.appendingPathComponent("e.safetensors").path]] {
            try refuses(command, "'\(edited)' lacks 15 of the 45 tensors of byol-t's encoder: online.encoder.stage3.block0.bn1.bias")
        }
        // Mutated bytes (mostly in the header) through export and eval: read, or refused
        // naming the file; never a crash or a hang.
        let campaign = FuzzCampaign("training-checkpoint", defaultCases: 6)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8 + Int(original[2]) << 16
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes = Bool.random(using: &random) || bytes.count <= headerEnd
                    ? Mutate.bytes(Array(bytes.prefix(headerEnd)), &random) + bytes.dropFirst(headerEnd)
                    : Mutate.bytes(bytes, &random, protecting: headerEnd)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: edited))
            for command in [["export", edited, "-o", root.appendingPathComponent("m.safetensors").path], ["eval", edited, "--data", "/nonexistent"]] {
                let result = try runProgram(try graftBinary(), command, timeout: 60)
                #expect(result.status < 124 && !result.stderr.contains("Fatal error") && !result.stderr.contains("bug in Graft"),
                        "\(campaign.label(index)): \(command) exited \(result.status)\n\(result.stderr.suffix(1500))")
                #expect(result.status == 0 || result.stderr.contains(edited) || result.stderr.contains("/nonexistent"),
                        "\(campaign.label(index)): \(command): \(result.stderr)")
            }
        }
        // Export never writes over its input.
        try refuses(["export", checkpoint, "-o", checkpoint], "--output '\(checkpoint)' is the input")
        #expect(try runProgram(try graftBinary(), ["export", checkpoint, "-o", root.appendingPathComponent("e.safetensors").path]).status == 0)
    }

    @Test func filesThatAreNotRegularFilesAreRefusedAtOnce() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let fifo = root.appendingPathComponent("fifo.safetensors").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for command in [["export", fifo, "-o", root.appendingPathComponent("e.safetensors").path], ["eval", fifo], ["train", "--resume", fifo]] {
            try refuses(command, "\(fifo): the checkpoint is a FIFO (named pipe), not a regular file")
        }
        try refuses(["opt", root.path], "\(root.path): the IR file is a directory, not a regular file")
        // A FIFO where the run would write its metrics is refused before any work.
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(mkfifo(out.appendingPathComponent("metrics.jsonl").path, 0o600) == 0)
        try refuses(["train", "byol-t", "--data", "/nonexistent", "--out", out.path], "\(out.path)/metrics.jsonl: the metrics log is a FIFO (named pipe), not a regular file")
    }

    @Test func dataTheModelCannotTakeAndEmptyDataAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writeSmallDataset(to: data, train: 32, test: 0)
        try refuses(["train", "byol-t", "--data", data.path, "--batch-size", "16", "--knn-train", "0"],
                    "t10k-images-idx3-ubyte: the file holds no images (its header says 0)")
        try refuses(["eval", "--baseline", "raw-pixels", "--data", data.path], "t10k-images-idx3-ubyte: the file holds no images")
        // CIFAR-10 (3×32×32) for a 1-channel model.
        let cifar = root.appendingPathComponent("cifar")
        try FileManager.default.createDirectory(at: cifar, withIntermediateDirectories: true)
        for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            try Data([UInt8](repeating: 1, count: 3073 * 20)).write(to: cifar.appendingPathComponent(name))
        }
        try refuses(["train", "byol-t", "--data", cifar.path, "--batch-size", "16"], "is f32[16,1,28,28] but the data gives f32[16,3,32,32]")
        try refuses(["eval", "--baseline", "random-init", "--model", "byol-t", "--data", cifar.path],
                    "cifar-10/train has 3×32×32 images, but random-init byol-t's encoder takes 1-channel square images")
    }
}
