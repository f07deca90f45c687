// End-to-end tests of the commands that take any IR file: `graft dump FILE` and `graft run FILE`.

import Testing
import Foundation
import GraftTestSupport

/// A forward graph a user could write by hand: output 0 is the loss Σ w·x, output 1 is w·x.
private let weightedSum = """
    graph @weighted_sum(%x: f32[3]) -> (f32[], f32[3]) {
      param @w : f32[3] {init = ones, role = weight}
      %0 = mul(@w, %x) : f32[3]
      %1 = reduce_sum(%0) {axes = [0]} : f32[]
      return %1, %0 : f32[], f32[3]
    }

    """

/// A fresh temporary directory, removed by the caller.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("graft-ir-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A safetensors file of f32 tensors, written byte by byte here (the format: an 8-byte
/// little-endian header length, the JSON header, then the data), independent of Graft's writer.
private func writeSafetensors(_ tensors: [(name: String, shape: [Int], values: [Float])], to url: URL) throws {
    var header: [String] = [], data: [UInt8] = []
    for tensor in tensors {
        let start = data.count
        for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
        header.append("\"\(tensor.name)\":{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(start),\(data.count)]}")
    }
    var json = Array("{\(header.joined(separator: ","))}".utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
    try Data(bytes + json + data).write(to: url)
}

@Suite struct IRFileCommandTests {
    @Test func dumpCompilesAnIRFileAtEveryStage() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("weighted_sum.gir")
        try weightedSum.write(to: file, atomically: true, encoding: .utf8)
        let graft = try graftBinary()

        let traced = try run(graft, ["dump", file.path])
        #expect(traced.status == 0, "\(traced.stderr)")
        #expect(traced.stdout == weightedSum)
        let autodiff = try run(graft, ["dump", file.path, "--stage", "autodiff"])
        #expect(autodiff.stdout.contains("param @w : f32[3] {gradient = 2, init = ones, role = weight}"), "\(autodiff.stdout)")
        // SGD by default (the settings of `graft opt --passes sgd`), or the optimizer named.
        let sgd = try run(graft, ["dump", file.path, "--stage", "optimized"])
        #expect(sgd.stdout.contains("state @optimizer.w.momentum"), "\(sgd.stdout)")
        #expect(sgd.stdout.contains("assign @w,"))
        let adamw = try run(graft, ["dump", file.path, "--stage", "optimized", "--optimizer", "adamw"])
        #expect(adamw.stdout.contains("%step: f32[]"), "\(adamw.stdout)")
        let llvm = try run(graft, ["dump", file.path, "--stage", "llvm"])
        #expect(llvm.status == 0, "\(llvm.stderr)")
        #expect(llvm.stdout.contains("define void @"))
        let headers = try run(graft, ["dump", file.path, "--after-all"]).stdout.split(separator: "\n").filter { $0.hasPrefix("// -----") }
        #expect(headers.first == "// ----- IR after parse ----- //")
        #expect(headers.last == "// ----- IR after dce ----- //")
        // The same text read from standard input.
        let piped = try run(graft, ["dump", "-", "--stage", "optimized"], input: weightedSum)
        #expect(piped.stdout == sgd.stdout)
    }

    @Test func dumpRejectsFlagsThatDoNotApply() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("weighted_sum.gir")
        try weightedSum.write(to: file, atomically: true, encoding: .utf8)
        let graft = try graftBinary()
        for (arguments, phrase) in [
            (["dump", file.path, "--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
            (["dump", file.path, "--batch-size", "4"], "--batch-size and --seed apply to declared models"),
            (["dump", "byol-t", "--optimizer", "sgd"], "--optimizer and --target apply to IR files"),
            (["dump", directory.appendingPathComponent("missing.gir").path], "unknown model"),
        ] {
            let result = try run(graft, arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
        }
    }

    @Test func runComputesAGraphOnGivenInputsAndVariables() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("weighted_sum.gir")
        try weightedSum.write(to: file, atomically: true, encoding: .utf8)
        let inputs = directory.appendingPathComponent("inputs.safetensors")
        try writeSafetensors([("x", [3], [1, 2, 3])], to: inputs)
        let graft = try graftBinary()

        // w starts at its init (ones): Σ w·x = 6.
        let ones = try run(graft, ["run", file.path, "--inputs", inputs.path])
        #expect(ones.status == 0, "\(ones.stderr)")
        #expect(ones.stdout.contains("output 0: f32[] 6.0\n"), "\(ones.stdout)")
        #expect(ones.stdout.contains("output 1: f32[3] min 1.0 mean 2.0 max 3.0\n"))

        // w from a variables file, outputs written and read back.
        let variables = directory.appendingPathComponent("variables.safetensors")
        try writeSafetensors([("w", [3], [0.5, -1, 2])], to: variables)
        let outputs = directory.appendingPathComponent("outputs.safetensors")
        let given = try run(graft, ["run", file.path, "--inputs", inputs.path, "--variables", variables.path, "-o", outputs.path, "--compare"])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stdout.contains("output 0: largest difference from the interpreter 0.0"), "\(given.stdout)")
        let written = try readF32Safetensors(outputs)
        #expect(written["output.0"] == [4.5])
        #expect(written["output.1"] == [0.5, -2, 6])
        #expect(written["w"] == [0.5, -1, 2])

        // The interpreter gives the same.
        let interpreted = try run(graft, ["run", file.path, "--inputs", inputs.path, "--variables", variables.path, "--interpreter"])
        #expect(interpreted.stdout.contains("output 0: f32[] 4.5\n"), "\(interpreted.stdout)")
    }

    @Test func runDrawsMissingInputsFromTheSeed() throws {
        let graft = try graftBinary()
        let first = try run(graft, ["run", "-", "--seed", "7", "--compare"], input: weightedSum)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("output 1: largest difference from the interpreter 0.0"), "\(first.stdout)")
        #expect(try run(graft, ["run", "-", "--seed", "7"], input: weightedSum).stdout == first.stdout.split(separator: "\n")
            .filter { !$0.contains("difference") }.map { $0 + "\n" }.joined())
        #expect(try run(graft, ["run", "-", "--seed", "8"], input: weightedSum).stdout != first.stdout)
    }

    @Test func runNamesWhatIsWrongWithItsFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("weighted_sum.gir")
        try weightedSum.write(to: file, atomically: true, encoding: .utf8)
        let extra = directory.appendingPathComponent("extra.safetensors")
        try writeSafetensors([("x", [3], [1, 2, 3]), ("z", [1], [0])], to: extra)
        let shape = directory.appendingPathComponent("shape.safetensors")
        try writeSafetensors([("x", [4], [1, 2, 3, 4])], to: shape)
        let graft = try graftBinary()
        for (arguments, phrase) in [
            (["run", file.path, "--inputs", extra.path], "has a tensor 'z', but @weighted_sum has no input %z; its inputs are %x"),
            (["run", file.path, "--inputs", shape.path], "holds input 'x' as f32[4] but @weighted_sum declares %x: f32[3]"),
            (["run", file.path, "--variables", extra.path], "has none of @weighted_sum's params or state"),
            (["run", file.path, "-o", directory.path], "is a directory"),
            (["run", file.path, "-o", directory.appendingPathComponent("no/such/out.safetensors").path], "does not exist"),
            (["run", directory.appendingPathComponent("missing.gir").path], "missing.gir: cannot open the IR file: No such file or directory"),
        ] {
            let result = try run(graft, arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(phrase), "\(arguments): \(result.stderr)")
        }
    }
}
