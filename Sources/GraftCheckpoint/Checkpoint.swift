// Checkpoint: named tensors plus string metadata, saved to and loaded from a safetensors file.

import GraftIR

/// Named tensors and string metadata, stored as one safetensors file that PyTorch
/// (`safetensors.torch.load_file`), JAX and NumPy users can read.
///
/// Graft keeps parameters, model state and optimizer state as `F32` tensors, and the step
/// counter and RNG state as `U64`/`I64` tensors; anything else a run needs to resume goes in
/// ``metadata``. See `Docs/Checkpoints.md` for the format and what reading checks.
///
/// ```swift
/// var checkpoint = Checkpoint()
/// checkpoint.tensors["encoder.conv1.weight"] = CheckpointTensor(weights)
/// checkpoint.tensors["step"] = CheckpointTensor(shape: [], [UInt64(step)])
/// checkpoint.metadata["model"] = "byol-t"
/// try checkpoint.write(to: "runs/a/step-1200.safetensors")
/// let resumed = try Checkpoint.read(from: "runs/a/step-1200.safetensors")
/// ```
public struct Checkpoint: Hashable, Sendable {
    /// The tensors by name. A name may be any string except `__metadata__`.
    public var tensors: [String: CheckpointTensor]
    /// String key-value pairs stored in the header's `__metadata__` (the format allows strings only).
    public var metadata: [String: String]

    public init(tensors: [String: CheckpointTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name` as a Graft host tensor (`F32`, `I32` or `BOOL` in the file).
    ///
    /// - Throws: a ``Diagnostic`` when there is no such tensor or its dtype has no Graft type.
    public func hostTensor(_ name: String) throws -> HostTensor {
        try naming(name) { try tensor(name).hostTensor() }
    }

    /// The values of the tensor called `name`, whose dtype must be `Element`'s.
    ///
    /// - Throws: a ``Diagnostic`` when there is no such tensor or its dtype differs.
    public func values<Element: CheckpointElement>(_ name: String, as type: Element.Type) throws -> [Element] {
        try naming(name) { try tensor(name).values(as: type) }
    }

    /// `hostTensor(name)` of the checkpoint read from `path`; an error names the file.
    public func hostTensor(_ name: String, from path: String) throws -> HostTensor {
        try locating(path) { try hostTensor(name) }
    }

    /// `values(name, as: type)` of the checkpoint read from `path`; an error names the file.
    public func values<Element: CheckpointElement>(_ name: String, as type: Element.Type, from path: String) throws -> [Element] {
        try locating(path) { try values(name, as: type) }
    }

    /// Runs `body`, prefixing the error it reports with the file the checkpoint came from.
    private func locating<Result>(_ path: String, _ body: () throws -> Result) throws -> Result {
        do { return try body() } catch let diagnostic as Diagnostic {
            throw Diagnostic("'\(path)': \(diagnostic.message)", notes: diagnostic.notes)
        }
    }

    /// Runs `body`, prefixing a dtype mismatch it reports with the tensor's name.
    private func naming<Result>(_ name: String, _ body: () throws -> Result) throws -> Result {
        do { return try body() } catch let diagnostic as Diagnostic where tensors[name] != nil {
            throw Diagnostic("tensor '\(name)': \(diagnostic.message)", notes: diagnostic.notes)
        }
    }

    private func tensor(_ name: String) throws -> CheckpointTensor {
        guard let tensor = tensors[name] else {
            let known = tensors.keys.sorted()
            throw Diagnostic("the checkpoint has no tensor '\(name)'",
                             notes: [known.isEmpty ? "it holds no tensors" : "it holds: \(known.prefix(20).joined(separator: ", "))\(known.count > 20 ? ", …" : "")"])
        }
        return tensor
    }

    /// Writes the checkpoint to `path` atomically: the bytes go to `<path>.tmp-<pid>` in the same
    /// directory, which is fsynced, renamed over `path`, and the directory fsynced.
    ///
    /// A reader of `path` sees the previous file or the complete new one, never a partial one,
    /// even if the process is killed mid-write; a killed write may leave the temp file behind.
    ///
    /// - Throws: a ``Diagnostic`` naming the file when a tensor is called `__metadata__` or the
    ///   file cannot be written; the previous file at `path`, if any, is then left as it was.
    public func write(to path: String) throws {
        guard !path.isEmpty else { throw Diagnostic("cannot write a checkpoint to an empty path; give a file name") }
        let layout = try SafetensorsLayout(self, file: path)
        try writeAtomically(layout.chunks, to: path)
    }

    /// Reads and checks the safetensors file at `path`.
    ///
    /// Tensors of any fixed-size safetensors dtype are loaded. Every inconsistency (truncation,
    /// a malformed or oversized header, unknown dtypes, sizes that disagree with shapes, offsets
    /// that overlap, leave gaps or run past the data) is reported before any tensor data is
    /// read, and nothing is allocated on the file's say-so beyond the file's actual size.
    ///
    /// - Throws: a ``Diagnostic`` naming the file, the problem and what to do.
    public static func read(from path: String) throws -> Checkpoint {
        try readSafetensors(from: path)
    }
}
