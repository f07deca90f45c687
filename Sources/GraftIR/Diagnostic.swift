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
        self.message = message
        self.location = location
        self.notes = notes
    }

    public var description: String {
        var text = location.map { "\($0): error: \(message)" } ?? "error: \(message)"
        for note in notes { text += "\nnote: \(note)" }
        return text
    }
}

/// A shape or type rule that an op's operands break; the caller attaches the location.
public struct TypeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
