// CheckpointFile: the POSIX file work behind Checkpoint: bounded reads and atomic writes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import GraftIR

/// Reads `path` as a safetensors file: the header length, then the header (once its length is
/// known to fit the file and the 100 MB limit), then each tensor (once the header is checked).
func readSafetensors(from path: String) throws -> Checkpoint {
    let descriptor = try RegularFile.openForReading(path, what: "the checkpoint")
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        throw Diagnostic("\(path): cannot inspect the checkpoint: \(systemError())", notes: ["check that the file is readable"])
    }
    let fileSize = UInt64(status.st_size)
    guard fileSize >= 8 else {
        throw corruptFile(path, "it is \(fileSize) bytes long, shorter than the 8-byte header length every safetensors file starts with")
    }

    let lengthBytes = try readExactly(descriptor, count: 8, at: 0, file: path)
    let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard headerLength <= maxHeaderLength else {
        throw corruptFile(path, "its header length is \(headerLength) bytes, over the 100 MB limit for a safetensors header")
    }
    guard headerLength <= fileSize - 8 else {
        throw corruptFile(path, "its header length is \(headerLength) bytes, but only \(fileSize - 8) bytes follow it (the file is truncated or its first 8 bytes are wrong)")
    }

    let header = try SafetensorsHeader(
        try readExactly(descriptor, count: Int(headerLength), at: 8, file: path),
        bufferLength: Int(fileSize - 8 - headerLength), file: path)
    let bufferStart = 8 + Int(headerLength)
    var checkpoint = Checkpoint(metadata: header.metadata)
    for entry in header.entries {
        let bytes = try readExactly(descriptor, count: entry.end - entry.begin, at: bufferStart + entry.begin, file: path)
        checkpoint.tensors[entry.name] = CheckpointTensor(dtype: entry.dtype, shape: entry.shape, bytes: bytes)
    }
    return checkpoint
}

/// `count` bytes of the file at byte `offset`; `count` has been checked against the file's size.
private func readExactly(_ descriptor: Int32, count: Int, at offset: Int, file: String) throws -> [UInt8] {
    var failure: Diagnostic?
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialized = 0
        while initialized < count {
            let result = pread(descriptor, buffer.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                failure = Diagnostic("\(file): reading failed at byte \(offset + initialized): \(systemError())",
                                     notes: ["check the disk and the file's permissions"])
                break
            }
            if result == 0 {
                failure = Diagnostic("\(file): the file ended at byte \(offset + initialized) while being read; it changed during the read",
                                     notes: ["read it again once nothing is writing it"])
                break
            }
            initialized += result
        }
    }
    if let failure { throw failure }
    return bytes
}

/// Writes `chunks`, one after another, to `<path>.tmp-<pid>`, fsyncs it, renames it over `path`
/// and fsyncs the directory, so `path` only ever holds a complete file.
///
/// On any failure the temp file is removed and `path` is untouched. `failingAfter` makes the
/// write fail once that many bytes are written, for tests of exactly that guarantee.
func writeAtomically(_ chunks: [[UInt8]], to path: String, failingAfter limit: Int? = nil) throws {
    let temporary = "\(path).tmp-\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        throw Diagnostic("\(path): cannot create the temp file \(temporary): \(systemError())",
                         notes: ["check that the directory exists and is writable; the previous checkpoint, if any, is unchanged"])
    }
    var isOpen = true
    defer { if isOpen { close(descriptor) } }
    do {
        var written = 0
        for chunk in chunks {
            try chunk.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    if let limit, written >= limit { errno = EIO; throw writeFailure(path, temporary) }
                    let count = min(raw.count - done, limit.map { $0 - written } ?? Int.max, 1 << 30)
                    let result = write(descriptor, raw.baseAddress! + done, count)
                    if result < 0 && errno == EINTR { continue }
                    if result < 0 { throw writeFailure(path, temporary) }
                    done += result
                    written += result
                }
            }
        }
        if fsync(descriptor) != 0 { throw writeFailure(path, temporary) }
        isOpen = false
        if close(descriptor) != 0 { throw writeFailure(path, temporary) }
        if rename(temporary, path) != 0 {
            throw Diagnostic("\(path): cannot rename \(temporary) over it: \(systemError())",
                             notes: ["check that the directory is writable and that the path is not a directory; the previous checkpoint, if any, is unchanged"])
        }
    } catch {
        unlink(temporary)
        throw error
    }
    try syncDirectory(of: path)
}

private func writeFailure(_ path: String, _ temporary: String) -> Diagnostic {
    Diagnostic("\(path): writing the temp file \(temporary) failed: \(systemError())",
               notes: ["check free disk space; the previous checkpoint, if any, is unchanged"])
}

/// Fsyncs the directory holding `path`, so the rename that put the file there is durable.
private func syncDirectory(of path: String) throws {
    let descriptor = open(directoryName(of: path), O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw Diagnostic("\(path): written, but its directory cannot be opened to make the rename durable: \(systemError())",
                         notes: ["the file is complete; a crash soon after may still lose it"])
    }
    defer { close(descriptor) }
    // Some file systems do not sync directories (EINVAL); the rename is then as durable as it gets.
    if fsync(descriptor) != 0 && errno != EINVAL {
        throw Diagnostic("\(path): written, but its directory could not be synced: \(systemError())",
                         notes: ["the file is complete; a crash soon after may still lose it"])
    }
}

/// The directory part of `path`: `runs/a` for `runs/a/ckpt`, `.` for `ckpt`, `/` for `/ckpt`.
func directoryName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// The current `errno` as text.
private func systemError() -> String {
    String(cString: strerror(errno))
}
