// AtomicWriteTests: a write either puts a complete file at the path or leaves the old one
// untouched, and never leaves its temp file behind.

import Foundation
import Testing
import GraftIR
@testable import GraftCheckpoint

@Suite struct AtomicWriteTests {
    @Test func aSuccessfulWriteLeavesOnlyTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ckpt.safetensors")
        try trainingCheckpoint().write(to: path)
        #expect(try directory.entries() == ["ckpt.safetensors"])

        let second = Checkpoint(tensors: ["step": CheckpointTensor(shape: [], [UInt64(2)])])
        try second.write(to: path)
        #expect(try directory.entries() == ["ckpt.safetensors"])
        #expect(try Checkpoint.read(from: path) == second)
    }

    /// The directory fsynced after the rename (the process's working directory is shared by
    /// every test running in parallel, so relative paths are checked here rather than written).
    @Test func theSyncedDirectoryIsThePathsDirectory() {
        #expect(directoryName(of: "runs/a/ckpt.safetensors") == "runs/a")
        #expect(directoryName(of: "ckpt.safetensors") == ".")
        #expect(directoryName(of: "/ckpt.safetensors") == "/")
        #expect(directoryName(of: "/tmp/ckpt.safetensors") == "/tmp")
    }

    /// The write fails after part of the file is out; the previous checkpoint must be intact.
    @Test(arguments: [0, 1, 8, 100, 300])
    func aWriteFailingMidwayKeepsThePreviousFile(failingAfter bytes: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ckpt.safetensors")
        try trainingCheckpoint().write(to: path)
        let before = try fileBytes(path)

        let next = Checkpoint(tensors: ["big": CheckpointTensor(shape: [1000], [Float](repeating: 7, count: 1000))])
        let layout = try SafetensorsLayout(next, file: path)
        #expect(throws: Diagnostic.self) { try writeAtomically(layout.chunks, to: path, failingAfter: bytes) }
        #expect(try fileBytes(path) == before)
        #expect(try directory.entries() == ["ckpt.safetensors"])
    }

    /// The temp file cannot be created (its name is taken by a directory; this fails even for
    /// root, unlike a read-only directory): the write is refused and the old file kept.
    @Test func anUncreatableTempFileKeepsThePreviousFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ckpt.safetensors")
        try trainingCheckpoint().write(to: path)
        let before = try fileBytes(path)
        let temporary = "\(path).tmp-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)

        do {
            try Checkpoint().write(to: path)
            Issue.record("the write succeeded")
        } catch let diagnostic as Diagnostic {
            #expect(diagnostic.description.contains(path))
            #expect(diagnostic.description.contains("cannot create the temp file"))
        }
        #expect(try fileBytes(path) == before)
    }

    /// The rename fails (the path is a non-empty directory): the temp file is cleaned up.
    @Test func aFailedRenameRemovesTheTempFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("taken")
        try FileManager.default.createDirectory(atPath: "\(path)/inside", withIntermediateDirectories: true)
        do {
            try trainingCheckpoint().write(to: path)
            Issue.record("the write succeeded")
        } catch let diagnostic as Diagnostic {
            #expect(diagnostic.description.contains("cannot rename"))
        }
        #expect(try directory.entries() == ["taken"])
    }

    @Test func aMissingDirectoryIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("no/such/dir/ckpt.safetensors")
        do {
            try trainingCheckpoint().write(to: path)
            Issue.record("the write succeeded")
        } catch let diagnostic as Diagnostic {
            #expect(diagnostic.description.contains(path))
            #expect(diagnostic.description.contains("No such file or directory"))
            #expect(diagnostic.notes.contains { $0.contains("directory exists") })
        }
        #expect(try directory.entries().isEmpty)
    }
}
