// Subprocess: runs a program for end-to-end tests, with posix_spawn and waitpid.
//
// Foundation's Process can miss a child's exit when several tests launch processes at once
// (its SIGCHLD bookkeeping races), which hangs the suite; a blocking waitpid on the child's
// own pid cannot. Output goes to files, so a large output never blocks the child.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The result of running a program.
public struct ProgramResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, feeding `input` on standard input, and waits for it.
public func runProgram(_ executable: URL, _ arguments: [String], input: String? = nil) throws -> ProgramResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let paths = ["stdin", "stdout", "stderr"].map { directory.appendingPathComponent($0).path }
    try Data((input ?? "").utf8).write(to: URL(fileURLWithPath: paths[0]))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, paths[0], O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, paths[1], O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, paths[2], O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw SubprocessError("cannot start \(executable.path): \(String(cString: strerror(spawned)))") }
    let exitStatus = wait(pid)
    let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
    return ProgramResult(status: exitStatus, stdout: read(paths[1]), stderr: read(paths[2]))
}

/// Starts `executable` without waiting, its standard error written to `stderr` (default:
/// discarded); the caller signals and reaps it with `wait(_:)`.
public func startProgram(_ executable: URL, _ arguments: [String], stderr: String = "/dev/null") throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw SubprocessError("cannot start \(executable.path): \(String(cString: strerror(spawned)))") }
    return pid
}

/// Waits for a started program to end; returns its exit status (128 + the signal's number
/// when a signal ended it).
@discardableResult
public func wait(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// The `graft` binary built next to the test bundle.
public func graftBinary() throws -> URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [directory, directory.deletingLastPathComponent()] {
        let url = candidate.appendingPathComponent("graft")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw SubprocessError("the graft binary was not found next to \(directory.path); build it with `swift build`")
}

/// Finds an executable on PATH.
public func which(_ name: String) -> URL? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return nil
}

public struct SubprocessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
