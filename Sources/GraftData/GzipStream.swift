// GzipStream: pull-based gzip decompression with the caller deciding how much output to
// accept, so a header can be checked before its payload is inflated and a gzip bomb stops at
// the size the header allows.

import CZlib
import GraftIR

/// Inflates one gzip member held in memory, on demand.
///
/// The caller reads the header bytes, decides how many payload bytes it expects, reads exactly
/// those and then calls `finish()`, which checks the stream ends there (and its CRC).
final class GzipStream {
    /// The largest ratio deflate reaches (1032:1 for long runs); a header that promises more
    /// than `ratio × compressed size` bytes cannot be true.
    static let maximumRatio = 1032

    private let path: String
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let stream: UnsafeMutablePointer<z_stream>
    private var ended = false

    /// Bytes of compressed input.
    var compressedCount: Int { input.count }

    init(_ compressed: [UInt8], path: String) throws {
        self.path = path
        input = .allocate(capacity: Swift.max(compressed.count, 1))
        _ = input.initialize(from: compressed)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        stream.pointee.next_in = input.baseAddress
        stream.pointee.avail_in = UInt32(compressed.count)
        let status = graft_inflate_init_gzip(stream)
        guard status == Z_OK else {
            input.deallocate()
            stream.deallocate()
            throw Diagnostic("\(path): zlib could not start decompressing (code \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Appends up to `count` decompressed bytes to `output`; fewer only at the end of the stream.
    ///
    /// - Returns: the number of bytes appended.
    @discardableResult
    func read(_ count: Int, into output: inout [UInt8]) throws -> Int {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: count))
        var produced = 0
        try output.withUnsafeMutableBufferPointer { buffer in
            while produced < count && !ended {
                let chunk = Swift.min(count - produced, 1 << 30)
                stream.pointee.next_out = buffer.baseAddress! + start + produced
                stream.pointee.avail_out = UInt32(chunk)
                let status = inflate(stream, Z_NO_FLUSH)
                produced += chunk - Int(stream.pointee.avail_out)
                try check(status)
            }
        }
        output.removeLast(count - produced)
        return produced
    }

    /// Reads exactly `count` bytes or throws `truncated(...)` with the given description.
    func readExactly(_ count: Int, into output: inout [UInt8], what: String) throws {
        let got = try read(count, into: &output)
        if got < count {
            throw Diagnostic("\(path): truncated file: the gzip stream ends after \(got) of the \(count) bytes of \(what); re-download it (\(DataFile.remedy))")
        }
    }

    /// Checks that the stream ends here: no more output, trailer and CRC intact, nothing after.
    func finish(expected: Int) throws {
        var extra = [UInt8]()
        let more = try read(1, into: &extra)
        if more > 0 {
            throw Diagnostic("\(path): the file holds more data than its header describes (\(expected) bytes); it is damaged or not the file the header names")
        }
        if stream.pointee.avail_in > 0 {
            throw Diagnostic("\(path): \(stream.pointee.avail_in) bytes of unexpected data after the end of the gzip stream")
        }
    }

    private func check(_ status: Int32) throws {
        switch status {
        case Z_STREAM_END:
            ended = true
        case Z_OK:
            break
        case Z_BUF_ERROR where stream.pointee.avail_in == 0:
            throw Diagnostic("\(path): truncated gzip stream: the compressed data ends before the stream does; re-download it (\(DataFile.remedy))")
        case Z_DATA_ERROR, Z_NEED_DICT:
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
            throw Diagnostic("\(path): corrupt gzip stream (\(reason)); re-download it (\(DataFile.remedy))")
        case Z_MEM_ERROR:
            throw Diagnostic("\(path): out of memory while decompressing")
        default:
            throw Diagnostic("\(path): gzip decompression failed (zlib code \(status))")
        }
    }
}
