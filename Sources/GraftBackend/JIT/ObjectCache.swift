// ObjectCache: the machine code of compiled kernel modules, kept on disk between processes.
//
// Compiling a step's kernels (LLVM's O3 and code generation) takes seconds; the same model
// compiled again (the next `graft train`, `bench` or test run) produces the same module text,
// so its object code is read back instead. A file's name is a hash of everything that
// decides the code: the module's IR text, the host CPU and its features, and LLVM's version.
// Files are written to a temporary name and renamed, so a reader never sees half a file; one
// that cannot be read or linked is compiled again and replaced.

import Foundation
import CLLVM

/// A directory of object files, one per compiled kernel module, named by a hash of what
/// determines their code.
public struct ObjectCache: Sendable {
    /// Where the files live.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The cache the environment asks for: `GRAFT_KERNEL_CACHE` names a directory, or is
    /// `off` for none; by default `$XDG_CACHE_HOME/graft/kernels` (`~/.cache/graft/kernels`).
    public static func fromEnvironment() -> ObjectCache? {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["GRAFT_KERNEL_CACHE"] {
            return chosen == "off" || chosen.isEmpty ? nil : ObjectCache(directory: URL(fileURLWithPath: chosen))
        }
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return ObjectCache(directory: base.appendingPathComponent("graft/kernels"))
    }

    /// The file name of a module's object code for `target` (the host CPU and features). The
    /// tag at its start names how Graft generates code from IR (`LLVMJIT`: O3 without
    /// heuristic unrolling, the JIT's code model); change it when that changes, so no older
    /// file is read back.
    static func key(module: String, target: String) -> String {
        let identity = "graft-object-cache-2\n\(LLVM_VERSION_STRING)\n\(target)\n"
        // Two 64-bit FNV-1a hashes with different bases: 128 bits, so unrelated modules never meet.
        var first: UInt64 = 0xCBF2_9CE4_8422_2325, second: UInt64 = 0x6C62_272E_07BB_0142
        for text in [identity, module] {
            for byte in text.utf8 {
                first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                second = ((second ^ UInt64(byte)) &* 0x0000_0100_0000_01B3) ^ (second >> 29)
            }
        }
        return String(first, radix: 16).leftPadded(to: 16) + String(second, radix: 16).leftPadded(to: 16) + ".o"
    }

    /// The object code stored under `key`, as an LLVM memory buffer the caller owns, or nil.
    func load(_ key: String) -> LLVMMemoryBufferRef? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(key)), !data.isEmpty else { return nil }
        return data.withUnsafeBytes { bytes in
            LLVMCreateMemoryBufferWithMemoryRangeCopy(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, key)
        }
    }

    /// Stores the object code in `buffer` under `key`; a cache that cannot be written is
    /// skipped silently (it only saves time).
    func store(_ buffer: LLVMMemoryBufferRef, as key: String) {
        let bytes = Data(bytes: LLVMGetBufferStart(buffer)!, count: LLVMGetBufferSize(buffer))
        let temporary = directory.appendingPathComponent(".\(key).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try bytes.write(to: temporary)
            guard rename(temporary.path, directory.appendingPathComponent(key).path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                return
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    /// Removes a file that could not be used.
    func discard(_ key: String) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(key))
    }
}
