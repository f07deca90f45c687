// Docs/Tutorial.md shows code from the examples package; every Swift snippet in it must be
// code that `make examples` compiles, so the tutorial cannot drift from the API.

import Testing
import Foundation

@Suite struct TutorialSnippetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The ```swift blocks of a Markdown file, each as its lines.
    static func swiftBlocks(_ markdown: String) -> [[String]] {
        var blocks: [[String]] = [], current: [String]?
        for line in markdown.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!)
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Whether `block` (lines trimmed, blank lines and lines of `…` ignored) appears as
    /// consecutive lines of `source` (trimmed, blank lines ignored).
    static func contains(_ source: [String], _ block: [String]) -> Bool {
        let wanted = block.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "…" }
        let lines = source.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !wanted.isEmpty, wanted.count <= lines.count else { return wanted.isEmpty }
        return (0...(lines.count - wanted.count)).contains { start in Array(lines[start..<(start + wanted.count)]) == wanted }
    }

    @Test func everySwiftSnippetIsCompiledByTheExamples() throws {
        let tutorial = try String(contentsOf: Self.root.appendingPathComponent("Docs/Tutorial.md"), encoding: .utf8)
        let sourcesDirectory = Self.root.appendingPathComponent("Examples")
        var sources: [String: [String]] = [:]
        let enumerator = FileManager.default.enumerator(at: sourcesDirectory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.path.contains("/.build") { enumerator?.skipDescendants(); continue }
            guard url.pathExtension == "swift" else { continue }
            sources[url.path] = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        }
        #expect(sources.count >= 4, "the examples' sources were not found under \(sourcesDirectory.path)")
        let blocks = Self.swiftBlocks(tutorial)
        #expect(blocks.count >= 6, "Docs/Tutorial.md has \(blocks.count) Swift snippets")
        for block in blocks {
            // A snippet with `…` lines is a set of excerpts of one file, in order.
            let parts = block.split(whereSeparator: { $0.trimmingCharacters(in: .whitespaces) == "…" }).map(Array.init)
            let found = sources.values.contains { source in parts.allSatisfy { Self.contains(source, $0) } }
            #expect(found, "Docs/Tutorial.md: this snippet is not in Examples/:\n\(block.joined(separator: "\n"))")
        }
    }

    @Test func theSnippetMatcherFindsOnlyWhatIsThere() {
        let source = ["struct A {", "    let x = 1", "", "    let y = 2", "}"]
        #expect(Self.contains(source, ["let x = 1", "let y = 2"]))
        #expect(!Self.contains(source, ["let y = 2", "let x = 1"]))
        #expect(!Self.contains(source, ["let z = 3"]))
        #expect(Self.swiftBlocks("a\n```swift\nlet a = 1\n```\nb\n```sh\nls\n```\n") == [["let a = 1"]])
    }
}
