// Parser: reads the IR text form (grammar in Docs/IR.md) into a verified Graph.

/// Parses IR text into a graph, checking each statement as it is read.
///
/// Errors are `Diagnostic`s located at the offending token (`file.gir:LINE:COL`): a bad
/// token, an unknown op, a wrong operand count, a bad attribute, a type that does not match
/// the op's rule, a use before definition, a duplicate definition, an assign to something
/// that is not a param or state.
public struct Parser {
    private var tokens: [Token]
    private var position = 0
    private let file: String

    /// Largest dimension size and integer attribute the text may hold, and largest element
    /// count of a type: type rules do plain `Int` arithmetic on them, which must not overflow.
    static let maxDimension = Int(Int32.max)
    static let maxElementCount = 1 << 48

    /// The tokens of one attribute in a statement: its name, its value, and a list's items.
    private typealias AttributeTokens = (key: Token, value: Token, items: [Token])

    private var graph = Graph(name: "")
    private var values: [String: ValueID] = [:]   // "%name" / "@name" -> node
    private var declaredTypes: [TensorType] = []
    /// Declarations whose `target_of` or `gradient` refers to something checked at the end,
    /// with the token of the reference.
    private var references: [(name: String, attribute: String, token: Token)] = []

    /// Parses one graph from `text`; `file` names the source in error messages.
    public static func parse(_ text: String, file: String = "<input>") throws -> Graph {
        var parser = Parser(tokens: try Lexer(text, file: file).tokens(), file: file)
        return try parser.parseGraph()
    }

    private init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    // MARK: Tokens

    private var current: Token { tokens[position] }

    private func location(_ token: Token) -> SourceLocation {
        SourceLocation(file: file, line: token.line, column: token.column)
    }

    private func error(_ message: String, at token: Token? = nil) -> Diagnostic {
        Diagnostic(message, at: location(token ?? current))
    }

    private mutating func advance() -> Token {
        defer { if position < tokens.count - 1 { position += 1 } }
        return current
    }

    private func isPunctuation(_ text: String) -> Bool { current.kind == .punctuation(text) }

    private mutating func consume(_ punctuation: String) -> Bool {
        guard isPunctuation(punctuation) else { return false }
        _ = advance()
        return true
    }

    private mutating func expect(_ punctuation: String, _ context: String) throws {
        guard consume(punctuation) else {
            throw error("expected '\(punctuation)' \(context), found \(current.spelling)")
        }
    }

    private mutating func expectWord(_ context: String) throws -> (String, Token) {
        let token = advance()
        guard case .word(let word) = token.kind else {
            throw error("expected \(context), found \(token.spelling)", at: token)
        }
        return (word, token)
    }

    private mutating func expectInt(_ context: String) throws -> Int {
        let token = advance()
        guard case .number(let literal) = token.kind, let value = Int(literal) else {
            throw error("expected \(context), found \(token.spelling)", at: token)
        }
        return value
    }

    // MARK: Grammar

    private mutating func parseGraph() throws -> Graph {
        let keyword = advance()
        guard keyword.kind == .word("graph") else {
            throw error("expected 'graph', found \(keyword.spelling)", at: keyword)
        }
        let nameToken = advance()
        guard case .symbol(let name) = nameToken.kind else {
            throw error("expected the graph's name like @step, found \(nameToken.spelling)", at: nameToken)
        }
        graph.name = name
        try expect("(", "after the graph's name")
        if !isPunctuation(")") {
            repeat {
                let token = advance()
                guard case .value(let input) = token.kind else {
                    throw error("expected an input like %x, found \(token.spelling)", at: token)
                }
                guard !input.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                    throw error("input names cannot be numbers: %\(input) would clash with the computed values %0, %1, …; name it like %x", at: token)
                }
                try expect(":", "after input %\(input)")
                let type = try parseType()
                try define("%" + input, Node(.input(input), type: type), at: token)
            } while consume(",")
        }
        try expect(")", "to close the input list")
        try expect("->", "before the result types")
        try expect("(", "to open the result types")
        var resultTypes: [TensorType] = []
        if !isPunctuation(")") {
            repeat { resultTypes.append(try parseType()) } while consume(",")
        }
        try expect(")", "to close the result types")
        try expect("{", "to open the graph body")

        while true {
            let token = current
            switch token.kind {
            case .word("param"), .word("state"):
                try parseDeclaration()
            case .word("assign"):
                try parseAssign()
            case .word("return"):
                try parseReturn(resultTypes: resultTypes)
                try checkReferences()
                try expect("}", "after return")
                guard current.kind == .end else {
                    throw error("expected end of file after the graph, found \(current.spelling)")
                }
                try Verifier.verify(graph)
                return graph
            case .value:
                try parseDefinition()
            case .end:
                throw error("expected 'return' before the end of the graph")
            case .punctuation("}"):
                throw error("expected 'return' before '}': a graph ends with `return` (a bare `return` if it has no results)")
            default:
                throw error("expected a statement (%name = op(...), param, state, assign or return), found \(token.spelling)")
            }
        }
    }

    private mutating func parseType() throws -> TensorType {
        let (word, token) = try expectWord("a type like f32[2,3]")
        guard let dtype = DType(rawValue: word) else {
            let valid = DType.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown element type '\(word)' (expected one of \(valid))", at: token)
        }
        try expect("[", "after the element type")
        var shape: [Int] = []
        if !isPunctuation("]") {
            repeat {
                let dimToken = current
                let dim = try expectInt("a dimension size")
                guard dim >= 0 else { throw error("dimension sizes cannot be negative", at: dimToken) }
                guard dim <= Parser.maxDimension else {
                    throw error("dimension size \(dim) is too large (at most \(Parser.maxDimension))", at: dimToken)
                }
                shape.append(dim)
            } while consume(",")
        }
        try expect("]", "to close the shape")
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Parser.maxElementCount else {
                throw error("type \(TensorType(dtype, shape)) is too large (at most 2^48 elements)", at: token)
            }
            count = product
        }
        return TensorType(dtype, shape)
    }

    private mutating func parseLocation() throws -> SourceLocation? {
        guard current.kind == .word("loc") else { return nil }
        _ = advance()
        try expect("(", "after loc")
        let token = advance()
        guard case .string(let path) = token.kind else {
            throw error("expected a quoted file name in loc(...), found \(token.spelling)", at: token)
        }
        try expect(":", "after the file name in loc(...)")
        let line = try expectInt("a line number")
        let column = consume(":") ? try expectInt("a column number") : nil
        try expect(")", "to close loc(...)")
        return SourceLocation(file: path, line: line, column: column)
    }

    private mutating func define(_ name: String, _ node: Node, at token: Token) throws {
        guard values[name] == nil else {
            throw error("duplicate definition of \(name)", at: token)
        }
        values[name] = graph.append(node)
    }

    private mutating func parseDeclaration() throws {
        let keyword = advance()
        let token = advance()
        guard case .symbol(let name) = token.kind else {
            throw error("expected a name like @layer.weight after \(keyword.spelling), found \(token.spelling)", at: token)
        }
        try expect(":", "after @\(name)")
        let type = try parseType()
        if values["%" + name] != nil {
            throw error("'\(name)' is already declared as the graph input %\(name); inputs, params and state need distinct names", at: token)
        }
        guard values["@" + name] == nil else { throw error("duplicate definition of @\(name)", at: token) }
        let op: Op = keyword.kind == .word("param") ? .param(name) : .state(name)
        var node = Node(op, type: type)
        do {
            node.type = try TypeInference.resultType(of: op, operands: [], declared: type)
        } catch let error as TypeError {
            throw self.error(error.message, at: token)
        }
        guard isPunctuation("{") else {
            throw error("expected attributes like {init = zeros, role = weight} after the type of @\(name): every param and state says how it is initialised and what it is for", at: token)
        }
        let (attributes, tokens) = try parseAttributes()
        let info: VariableInfo
        do {
            info = try VariableInfo(keyword: op.name, attributes: attributes)
        } catch let error as TypeError {
            let missing = error.message.contains("missing attribute") ? tokens["init"]?.value : nil
            throw self.error("@\(name): " + error.message, at: Parser.culprit(of: error.message, among: tokens) ?? missing ?? token)
        }
        for attribute in ["target_of", "gradient"] {
            if let reference = tokens[attribute] { references.append((name, attribute, reference.value)) }
        }
        node.location = try parseLocation()
        try define("@" + name, node, at: token)
        graph.variables[name] = info
    }

    /// Checks what declarations refer to beyond themselves, once the whole graph is read:
    /// `target_of` names a declared param or state of the same type that is not a target
    /// itself, `gradient` names an output (not the loss) of the param's type, one per param.
    private func checkReferences() throws {
        var gradientOwners: [Int: String] = [:]
        for (name, attribute, token) in references {
            let info = graph.variables[name]!
            let type = graph[values["@" + name]!].type
            if attribute == "target_of", let online = info.targetOf {
                guard let other = values["@" + online], graph[other].op.declaredName == online else {
                    throw error("@\(name): target_of names @\(online), which is not a declared param or state", at: token)
                }
                guard graph[other].type == type else {
                    throw error("@\(name): target_of names @\(online) of type \(graph[other].type), but @\(name) is \(type)", at: token)
                }
                guard graph.variables[online]?.targetOf == nil else {
                    throw error("@\(name): target_of names @\(online), which is itself a target", at: token)
                }
            } else if let output = info.gradient {
                guard output >= 1, output < graph.outputs.count else {
                    throw error("@\(name): gradient = \(output) names no output; the graph returns \(graph.outputs.count) values and output 0 is the loss", at: token)
                }
                guard graph[graph.outputs[output]].type == type else {
                    throw error("@\(name): gradient = \(output) names an output of type \(graph[graph.outputs[output]].type), but @\(name) is \(type)", at: token)
                }
                if let owner = gradientOwners[output] {
                    throw error("@\(name): output \(output) is already the gradient of @\(owner)", at: token)
                }
                gradientOwners[output] = name
            }
        }
    }

    private mutating func parseOperand() throws -> ValueID {
        let token = advance()
        let name: String
        switch token.kind {
        case .value(let text): name = "%" + text
        case .symbol(let text): name = "@" + text
        default: throw error("expected an operand like %3 or @weight, found \(token.spelling)", at: token)
        }
        guard let value = values[name] else {
            throw error("use of \(name) before its definition", at: token)
        }
        return value
    }

    /// One attribute value, and for a list the first token of each item.
    private mutating func parseAttributeValue(inList: Bool = false) throws -> (Attribute, [Token]) {
        let token = advance()
        switch token.kind {
        case .number(let literal):
            if let value = Int(literal) { return (.int(value), []) }
            return (.float(Float(literal)!), [])
        case .word("true"): return (.bool(true), [])
        case .word("false"): return (.bool(false), [])
        case .word(let word): return (.word(word), [])
        case .punctuation("["):
            guard !inList else { throw error("attribute lists cannot be nested", at: token) }
            var items: [Attribute] = []
            var itemTokens: [Token] = []
            if !consume("]") {
                repeat {
                    itemTokens.append(current)
                    items.append(try parseAttributeValue(inList: true).0)
                } while consume(",")
                try expect("]", "to close the list")
            }
            return (.list(items), itemTokens)
        default:
            throw error("expected an attribute value, found \(token.spelling)", at: token)
        }
    }

    /// `{name = value, ...}`: the attributes of a statement or declaration, and their tokens.
    private mutating func parseAttributes() throws -> ([String: Attribute], [String: AttributeTokens]) {
        var attributes: [String: Attribute] = [:]
        var attributeTokens: [String: AttributeTokens] = [:]
        try expect("{", "to open the attributes")
        repeat {
            let (key, keyToken) = try expectWord("an attribute name")
            try expect("=", "after attribute \(key)")
            guard attributes[key] == nil else { throw error("attribute '\(key)' is given twice", at: keyToken) }
            let valueToken = current
            let (value, itemTokens) = try parseAttributeValue()
            attributes[key] = value
            attributeTokens[key] = (keyToken, valueToken, itemTokens)
        } while consume(",")
        try expect("}", "to close the attributes")
        return (attributes, attributeTokens)
    }

    private mutating func parseDefinition() throws {
        let resultToken = advance()
        guard case .value(let result) = resultToken.kind else { fatalError("caller checked for a value token") }
        try expect("=", "after %\(result)")
        let (opName, opToken) = try expectWord("an op name")
        guard !["param", "state", "input"].contains(opName) else {
            throw error("\(opName) is declared, not computed: write `\(opName) @name : type`", at: opToken)
        }
        guard Op.statementNames.contains(opName) else { throw error("unknown op '\(opName)'", at: opToken) }
        try expect("(", "after \(opName)")
        var operands: [ValueID] = []
        if !isPunctuation(")") {
            repeat { operands.append(try parseOperand()) } while consume(",")
        }
        try expect(")", "to close the operands of \(opName)")
        let (attributes, attributeTokens) = isPunctuation("{") ? try parseAttributes() : ([:], [:])
        try expect(":", "before the result type of \(opName)")
        let typeToken = current
        let declared = try parseType()
        let location = try parseLocation()

        let op: Op
        do {
            op = try Op(name: opName, attributes: attributes)
        } catch let error as TypeError {
            throw self.error(error.message, at: Parser.culprit(of: error.message, among: attributeTokens) ?? opToken)
        }
        for (name, value) in op.attributes {
            let items: [Attribute] = if case .list(let items) = value { items } else { [value] }
            for (index, item) in items.enumerated() {
                guard case .int(let number) = item, number.magnitude > UInt(Parser.maxDimension) else { continue }
                let tokens = attributeTokens[name]
                let token = if case .list = value { tokens?.items[index] } else { tokens?.value }
                throw error("\(opName): attribute '\(name)' holds \(number), which is out of range (at most \(Parser.maxDimension) in magnitude)", at: token ?? opToken)
            }
        }
        let inferred: TensorType
        do {
            inferred = try TypeInference.resultType(of: op, operands: operands.map { graph[$0].type }, declared: declared)
        } catch let error as TypeError {
            throw self.error(error.message, at: opToken)
        }
        guard inferred == declared else {
            throw error("\(opName): result type is \(inferred), but the statement says \(declared)", at: typeToken)
        }
        try define("%" + result, Node(op, operands, type: declared, location: location), at: resultToken)
    }

    /// The attribute token an `Op(name:attributes:)` error is about: the name of an unknown
    /// attribute or the value of a mistyped one; `nil` when it is about the op as a whole (a
    /// missing attribute). The error says which attribute only in its message.
    private static func culprit(of message: String, among tokens: [String: AttributeTokens]) -> Token? {
        for (name, token) in tokens {
            if message.contains("unknown attribute '\(name)'") || message.contains("attribute '\(name)' is only") { return token.key }
            if message.contains("attribute '\(name)' must") { return token.value }
        }
        if message.hasPrefix("compare: unknown direction") { return tokens["direction"]?.value }
        return nil
    }

    private mutating func parseAssign() throws {
        _ = advance()
        let token = advance()
        guard case .symbol(let name) = token.kind else {
            if case .value(let name) = token.kind {
                throw error("assign: %\(name) is not a param or state; only params and state can be assigned", at: token)
            }
            throw error("expected a param or state like @name after assign, found \(token.spelling)", at: token)
        }
        guard let target = values["@" + name] else {
            throw error("assign: @\(name) is not a declared param or state", at: token)
        }
        try expect(",", "after the assigned name")
        let valueToken = current
        let value = try parseOperand()
        guard graph[value].type == graph[target].type else {
            throw error("assign: @\(name) has type \(graph[target].type) but the value has type \(graph[value].type)", at: valueToken)
        }
        guard !graph.assigns.contains(where: { $0.name == name }) else {
            throw error("assign: @\(name) is assigned more than once; a step writes each param or state once", at: token)
        }
        graph.assigns.append(Assign(name: name, value: value, location: try parseLocation()))
    }

    private mutating func parseReturn(resultTypes: [TensorType]) throws {
        let keyword = advance()
        var outputs: [ValueID] = []
        if !isPunctuation("}") {
            repeat { outputs.append(try parseOperand()) } while consume(",")
            try expect(":", "before the returned types")
            let typesToken = current
            var types: [TensorType] = []
            repeat { types.append(try parseType()) } while consume(",")
            guard types == outputs.map({ graph[$0].type }) else {
                throw error("return: the returned values have types \(outputs.map { graph[$0].type.description }.joined(separator: ", ")), not the types written", at: typesToken)
            }
        }
        guard outputs.map({ graph[$0].type }) == resultTypes else {
            throw error("return: the graph's signature promises (\(resultTypes.map(\.description).joined(separator: ", "))) but return gives (\(outputs.map { graph[$0].type.description }.joined(separator: ", ")))", at: keyword)
        }
        graph.outputs = outputs
    }
}
