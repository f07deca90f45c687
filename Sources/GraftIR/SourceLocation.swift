// SourceLocation: where a node came from (a DSL call site or a line of IR text).

/// A position in a source file: the DSL call that made a node, or a token in an IR text file.
///
/// Printed as `file:line` or `file:line:column`, the prefix of a compiler diagnostic.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        if let column { return "\(file):\(line):\(column)" }
        return "\(file):\(line)"
    }
}
