// SourcePathResolver: turns a #filePath into the short path shown in locations.

import Foundation

/// Maps an absolute `#filePath` to the path a user reads in a diagnostic: relative to the
/// package root that holds it (`models/ResNet.swift`), found by walking up to `Package.swift`.
/// Paths outside any package keep their last two components.
final class SourcePathResolver {
    private var cache: [String: String] = [:]
    /// The Graft library's own source folder; ops called from it inherit a layer call's location.
    private static let libraryDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/"

    func isInsideLibrary(_ path: String) -> Bool {
        path.hasPrefix(SourcePathResolver.libraryDirectory)
    }

    func displayPath(_ path: String) -> String {
        if let cached = cache[path] { return cached }
        let resolved = resolve(path)
        cache[path] = resolved
        return resolved
    }

    private func resolve(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return String(path.dropFirst(directory.path.count + 1))
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: path).pathComponents.suffix(2).joined(separator: "/")
    }
}
