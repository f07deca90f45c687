// RegularFile: the one check every Graft reader makes before it reads a path: it must be a
// regular file (not a directory, FIFO, socket or device), so that no input can block a read.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening and reading files that must be regular files.
///
/// The file is opened with `O_NONBLOCK` (so opening a FIFO returns at once instead of waiting
/// for a writer) and checked with `fstat` on the opened descriptor, so the check and the read
/// see the same file.
public enum RegularFile {
    /// Opens `path` for reading and returns its descriptor, which the caller closes.
    /// - Parameter what: what the file is, for messages ("the checkpoint", "the IR file").
    /// - Throws: a `Diagnostic` naming the path when it cannot be opened or is not a regular file.
    public static func openForReading(_ path: String, what: String) throws -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw Diagnostic("\(path): cannot open \(what): \(String(cString: strerror(errno)))",
                             notes: ["check the path, and that the file exists and is readable"])
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Diagnostic("\(path): cannot inspect \(what): \(reason)", notes: ["check that the file is readable"])
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw Diagnostic("\(path): \(what) is \(kind(status.st_mode)), not a regular file",
                             notes: ["give the path of a regular file"])
        }
        // Regular files never block; clear the flag so reads behave as usual.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return descriptor
    }

    /// Checks that `path` names a readable regular file, without reading it.
    public static func check(_ path: String, what: String) throws {
        close(try openForReading(path, what: what))
    }

    /// Checks that `path`, if it exists, is a regular file, so that writing or appending to it
    /// cannot block (a FIFO) or fail late (a directory).
    public static func checkReplaceable(_ path: String, what: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw Diagnostic("\(path): \(what) is \(kind(status.st_mode)), not a regular file",
                             notes: ["remove it, or choose another output directory"])
        }
    }

    /// The whole content of the regular file at `path`.
    /// - Throws: a `Diagnostic` naming the path when it is not a readable regular file.
    public static func contents(of path: String, what: String) throws -> [UInt8] {
        let descriptor = try openForReading(path, what: what)
        defer { close(descriptor) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw Diagnostic("\(path): reading \(what) failed: \(String(cString: strerror(errno)))",
                                 notes: ["check the disk and the file's permissions"])
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// "a directory", "a FIFO", … for a `st_mode`.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "not a regular file"
        }
    }
}
