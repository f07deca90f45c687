// DataFile: finding and reading dataset files, with errors that name the file and what to do.

import Foundation
import GraftIR

/// File access shared by the dataset readers.
enum DataFile {
    /// What a user can do when a dataset file is missing or damaged.
    static let remedy = "run `make deps` to install the dataset or pass --data DIR"

    /// The first of `names` that exists in `directory` (or in `directory/subdirectory`).
    ///
    /// - Throws: a `Diagnostic` listing every path looked at.
    static func find(_ names: [String], in directory: String, subdirectories: [String] = [], what: String) throws -> String {
        var tried = [String]()
        for folder in [directory] + subdirectories.map({ (directory as NSString).appendingPathComponent($0) }) {
            for name in names {
                let path = (folder as NSString).appendingPathComponent(name)
                tried.append(path)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return path
                }
            }
        }
        throw Diagnostic("\(what) not found in \(directory): looked for \(tried.joined(separator: ", ")); \(remedy)")
    }

    /// The bytes of the file at `path`.
    static func read(_ path: String) throws -> [UInt8] {
        do {
            return try RegularFile.contents(of: path, what: "the dataset file")
        } catch let error as Diagnostic {
            throw Diagnostic(error.message + "; \(remedy)", notes: error.notes)
        }
    }

    /// Whether `bytes` (from `path`) is a gzip stream: the `.gz` suffix or the magic 1f 8b.
    static func isGzip(_ bytes: [UInt8], path: String) -> Bool {
        path.hasSuffix(".gz") || (bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
    }
}
