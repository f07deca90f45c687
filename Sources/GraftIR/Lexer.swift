// Lexer: splits IR text into tokens that remember their line and column.

/// A token of the IR text form.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `%name`: a graph input or a computed value (text without the sigil).
        case value(String)
        /// `@name`: a param, state or graph name (text without the sigil).
        case symbol(String)
        /// A bare word: a keyword, op name, dtype, attribute name or word attribute.
        case word(String)
        /// An integer or floating-point literal, as written.
        case number(String)
        /// A double-quoted string (contents without quotes).
        case string(String)
        /// One of `( ) { } [ ] , : =` or `->`.
        case punctuation(String)
        case end
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    /// How the token reads in an error message.
    public var spelling: String {
        switch kind {
        case .value(let text): "'%\(text)'"
        case .symbol(let text): "'@\(text)'"
        case .word(let text), .number(let text), .punctuation(let text): "'\(text)'"
        case .string(let text): "\"\(text)\""
        case .end: "end of file"
        }
    }
}

/// Turns IR text into tokens; `//` starts a comment that runs to the end of the line.
public struct Lexer {
    private let bytes: [UInt8]
    private let file: String

    public init(_ text: String, file: String) {
        self.bytes = Array(text.utf8)
        self.file = file
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// All tokens, ending with `.end`; throws a located error at the first bad character.
    public func tokens() throws -> [Token] {
        var result: [Token] = []
        var index = 0
        var line = 1
        var lineStart = 0
        // Where the end of file is reported: just after the last token, not on a line past it.
        var endLine = 1
        var endColumn = 1
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while index < bytes.count {
            let tokenCount = result.count
            defer {
                if result.count > tokenCount {
                    (endLine, endColumn) = (line, index - lineStart + 1)
                }
            }
            let byte = bytes[index]
            let column = index - lineStart + 1
            func add(_ kind: Token.Kind) { result.append(Token(kind: kind, line: line, column: column)) }
            func error(_ message: String) -> Diagnostic {
                Diagnostic(message, at: SourceLocation(file: file, line: line, column: column))
            }
            switch byte {
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
                lineStart = index
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "%"), UInt8(ascii: "@"):
                var end = index + 1
                while end < bytes.count && Lexer.isNameByte(bytes[end]) { end += 1 }
                guard end > index + 1 else {
                    throw error("expected a name after '\(Character(UnicodeScalar(byte)))'")
                }
                let name = text(index + 1..<end)
                add(byte == UInt8(ascii: "%") ? .value(name) : .symbol(name))
                index = end
            case UInt8(ascii: "\""):
                var end = index + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { throw error("unterminated string") }
                add(.string(text(index + 1..<end)))
                index = end + 1
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: ">"):
                add(.punctuation("->"))
                index += 2
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var end = index + 1
                while end < bytes.count {
                    let next = bytes[end]
                    let previous = bytes[end - 1]
                    let isExponentSign = (next == UInt8(ascii: "-") || next == UInt8(ascii: "+"))
                        && (previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E"))
                    guard Lexer.isNameByte(next) || isExponentSign else { break }
                    end += 1
                }
                let literal = text(index..<end)
                guard Float(literal) != nil else { throw error("malformed number '\(literal)'") }
                add(.number(literal))
                index = end
            case _ where Lexer.isNameByte(byte):
                var end = index + 1
                while end < bytes.count && Lexer.isNameByte(bytes[end]) { end += 1 }
                add(.word(text(index..<end)))
                index = end
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["),
                UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "="):
                add(.punctuation(String(UnicodeScalar(byte))))
                index += 1
            default:
                let scalar = text(index..<Swift.min(index + 1, bytes.count))
                throw error("unexpected character '\(byte < 0x80 ? scalar : "\\u{\(String(byte, radix: 16))}")'")
            }
        }
        result.append(Token(kind: .end, line: endLine, column: endColumn))
        return result
    }
}
