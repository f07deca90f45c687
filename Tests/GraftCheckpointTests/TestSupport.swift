// TestSupport: temp directories, hand-built safetensors files and a Python runner for the tests.

import Foundation
import GraftTestSupport
import Testing
import GraftIR
@testable import GraftCheckpoint

/// A fresh empty directory under the system temp directory; removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "graft-checkpoint-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// The names of the directory's entries, sorted.
    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The bytes of the file at `path`.
func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes `bytes` to `path`.
func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A safetensors file built by hand: the length prefix (`declaredLength`, or the header's real
/// length), the header text, the data buffer.
func safetensorsFile(header: String, buffer: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + buffer
}

/// Reads `path` expecting a ``Diagnostic`` that names the file and contains `phrase`.
func expectReadFails(_ path: String, mentioning phrase: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    do {
        let checkpoint = try Checkpoint.read(from: path)
        Issue.record("read succeeded with \(checkpoint.tensors.count) tensors; expected an error mentioning '\(phrase)'",
                     sourceLocation: sourceLocation)
    } catch let diagnostic as Diagnostic {
        let text = diagnostic.description
        #expect(text.contains(path), "diagnostic does not name the file: \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(phrase), "diagnostic lacks '\(phrase)': \(text)", sourceLocation: sourceLocation)
        #expect(!diagnostic.notes.isEmpty, "diagnostic says nothing to do: \(text)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a Diagnostic, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The `python3` executable on PATH, or nil.
let python3: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/python3"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}()

/// Runs `python3 -c script arguments…`; returns its exit status and its stdout and stderr together.
func runPython(_ script: String, arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try runProgram(URL(fileURLWithPath: python3!), ["-c", script] + arguments)
    return (result.status, result.stdout + result.stderr)
}
