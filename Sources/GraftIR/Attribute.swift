// Attribute: the compile-time parameters of an op (`{axes = [0, 2], keep = true}` in the text form).

/// A compile-time value attached to an op, as written between braces in the IR text form.
public enum Attribute: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Float)
    case bool(Bool)
    /// A bare word such as a comparison direction: `direction = gt`.
    case word(String)
    case list([Attribute])

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .float(let value): Attribute.format(value)
        case .bool(let value): value ? "true" : "false"
        case .word(let word): word
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// Shortest text that parses back to exactly `value`; integral values keep a `.0`.
    public static func format(_ value: Float) -> String {
        value.description
    }
}

/// Reads typed attribute values by name, reporting what is missing, mistyped or unknown.
///
/// Op constructors from text use it so that every attribute error reads the same way.
public struct AttributeReader {
    private let op: String
    private var remaining: [String: Attribute]

    public init(op: String, attributes: [String: Attribute]) {
        self.op = op
        self.remaining = attributes
    }

    private mutating func take(_ name: String) throws -> Attribute {
        guard let value = remaining.removeValue(forKey: name) else {
            throw TypeError("\(op): missing attribute '\(name)'")
        }
        return value
    }

    public mutating func int(_ name: String) throws -> Int {
        guard case .int(let value) = try take(name) else {
            throw TypeError("\(op): attribute '\(name)' must be an integer")
        }
        return value
    }

    public mutating func float(_ name: String) throws -> Float {
        switch try take(name) {
        case .float(let value): return value
        case .int(let value): return Float(value)
        case .word(let word) where Float(word) != nil: return Float(word)!
        default: throw TypeError("\(op): attribute '\(name)' must be a number")
        }
    }

    public mutating func bool(_ name: String) throws -> Bool {
        guard case .bool(let value) = try take(name) else {
            throw TypeError("\(op): attribute '\(name)' must be true or false")
        }
        return value
    }

    public mutating func word(_ name: String) throws -> String {
        guard case .word(let value) = try take(name) else {
            throw TypeError("\(op): attribute '\(name)' must be a word")
        }
        return value
    }

    public mutating func ints(_ name: String) throws -> [Int] {
        guard case .list(let items) = try take(name) else {
            throw TypeError("\(op): attribute '\(name)' must be a list of integers, like [0, 1]")
        }
        return try items.map {
            guard case .int(let value) = $0 else {
                throw TypeError("\(op): attribute '\(name)' must be a list of integers, like [0, 1]")
            }
            return value
        }
    }

    /// Fails if any attribute was given that the op does not take.
    public func finish() throws {
        if let extra = remaining.keys.sorted().first {
            throw TypeError("\(op): unknown attribute '\(extra)'")
        }
    }
}
