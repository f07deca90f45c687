// Helpers that write small dataset files (plain and gzip) into a fresh temporary folder.

import CZlib
import Foundation
import GraftIR
import Testing

/// A fresh temporary folder, removed when the value is deinitialised.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("graft-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` in the folder and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// An IDX file of unsigned bytes: magic 0x0000_08_nn, big-endian sizes, values.
func idx(_ dimensions: [Int], _ values: [UInt8], magic: UInt32? = nil) -> [UInt8] {
    var bytes = bigEndian(magic ?? UInt32(0x0800 | dimensions.count))
    for size in dimensions { bytes += bigEndian(UInt32(size)) }
    return bytes + values
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
}

/// `bytes` compressed as one gzip member with zlib's deflate.
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    precondition(graft_deflate_init_gzip(&stream, 6) == Z_OK)
    defer { deflateEnd(&stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
    let written: Int = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = target.baseAddress
            stream.avail_out = UInt32(target.count)
            precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
            return target.count - Int(stream.avail_out)
        }
    }
    return Array(output.prefix(written))
}

/// The test's image bytes: image `n`, pixel `p` is `(7n + 3p) mod 256`.
func pixelBytes(count: Int, size: Int) -> [UInt8] {
    (0 ..< count * size).map { UInt8((7 * ($0 / size) + 3 * ($0 % size)) % 256) }
}

/// Runs `body`, expects a `Diagnostic`, and checks its message contains every fragment.
func expectDiagnostic(_ fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a Diagnostic containing \(fragments)", sourceLocation: sourceLocation)
    } catch let diagnostic as Diagnostic {
        for fragment in fragments where !diagnostic.message.contains(fragment) {
            Issue.record("\"\(diagnostic.message)\" does not contain \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a Diagnostic, got \(error)", sourceLocation: sourceLocation)
    }
}
