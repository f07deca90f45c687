// MetricsLog: training metrics as JSON lines, one object per line.

import Foundation
import GraftIR

/// Appends JSON objects, one per line, to `metrics.jsonl`; each line is flushed as written, so
/// an interrupted run keeps everything it logged.
public final class MetricsLog {
    public let path: String
    private let handle: FileHandle

    /// Opens the log; when resuming from `step`, drops lines written after that step by the
    /// interrupted run, so the resumed log equals an uninterrupted one.
    public init(path: String, keepingStepsUpTo step: Int?) throws {
        self.path = path
        let manager = FileManager.default
        try RegularFile.checkReplaceable(path, what: "the metrics log")
        if let step, manager.fileExists(atPath: path) {
            let data = try RegularFile.contents(of: path, what: "the metrics log")
            let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let lineStep = object["step"] as? Int else { return false }
                return lineStep <= step
            }
            try (kept.map { $0 + "\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            _ = manager.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw Diagnostic("cannot write the metrics log '\(path)'; check that the output directory is writable")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Writes one line; keys are sorted so logs compare equal across runs.
    public func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// Every object in a metrics log.
    public static func read(_ path: String) throws -> [[String: Any]] {
        let data = try RegularFile.contents(of: path, what: "the metrics log")
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
