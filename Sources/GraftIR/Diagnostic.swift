// Diagnostic: the one error type every Graft stage reports to users.

/// An error a user can cause (a shape mismatch in a model, malformed IR text, an op without a
/// rule), with the location it is about.
///
/// Its description is the compiler-style line `models/ResNet.swift:41: error: matmul: ...`,
/// followed by any notes, one per line.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    public var notes: [String]

    public init(_ message: String, at location: SourceLocation? = nil, notes: [String] = []) {
        self.message = Diagnostic.abbreviatingLists(message)
        self.location = location
        self.notes = notes
    }

    public var description: String {
        var text = location.map { "\($0): error: \(message)" } ?? "error: \(message)"
        for note in notes { text += "\nnote: \(note)" }
        return text
    }
}

extension Diagnostic {
    /// The most items of a bracketed list a message shows.
    static let listItemsShown = 8

    /// `text` with every bracketed list longer than `listItemsShown` items cut to its first
    /// items and a count, so an error about a huge attribute stays one readable line:
    /// `[0, 0, 0, 0, 0, 0, 0, 0, … (2000000 items)]`.
    static func abbreviatingLists(_ text: String) -> String {
        guard text.utf8.count > 200 else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "]") else { break }
            let inner = rest[rest.index(after: open)..<close]
            let items = inner.split(separator: ",", omittingEmptySubsequences: false)
            if items.count > listItemsShown, !inner.contains("[") {
                result += "[" + items.prefix(listItemsShown).joined(separator: ",") + ", … (\(items.count) items)]"
            } else {
                result += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

/// A shape or type rule that an op's operands break; the caller attaches the location.
public struct TypeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
