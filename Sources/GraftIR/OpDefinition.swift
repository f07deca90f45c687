// OpDefinition: what the IR knows about each op kind, in one record per kind (the records
// themselves are in Op.swift), and the `Op` API built on it: name, attributes, arity, group,
// type rule, scalar meaning and contraction geometry.

/// The family an op belongs to; fusion and every later stage treat a group alike.
public enum OpGroup: String, CaseIterable, Hashable, Sendable {
    /// `input`, `param`, `state`: named values the step reads, with storage of their own.
    case declaration
    /// `constant`, `iota`, `random_uniform`: computed from the element's position (and, for
    /// `random_uniform`, a scalar operand), wherever they are needed.
    case leaf
    /// Applied element by element to operands of one shape; has a scalar meaning.
    case elementwise
    /// Combines the elements of some axes of one operand.
    case reduction
    /// Moves elements without computing on them.
    case layout
    /// A matrix product, a convolution, or `scatter_add`: a call of its own whose operands and
    /// result have buffers.
    case contraction
    /// Combines a window of its operand around each result element (pooling and its
    /// gradients); computed inside a loop kernel of its own, like a layout op at a mapped index.
    case window
}

/// How many operands an op takes.
public enum Arity: Hashable, Sendable {
    case fixed(Int)
    case atLeast(Int)

    /// Whether `count` operands are allowed.
    public func allows(_ count: Int) -> Bool {
        switch self {
        case .fixed(let n): count == n
        case .atLeast(let n): count >= n
        }
    }
}

/// The element types a scalar meaning is instantiated at.
public struct ElementTypes: Hashable, Sendable {
    public var operands: [DType]
    public var result: DType

    public init(operands: [DType], result: DType) {
        self.operands = operands
        self.result = result
    }
}

/// Everything the IR knows about one op kind.
public struct OpDefinition: Sendable {
    public let kind: OpKind
    public let group: OpGroup
    public let arity: Arity
    /// The names of the op's attributes, sorted (the order the text form prints them in).
    public let attributeNames: [String]
    /// The attribute values of an op of this kind, in `attributeNames` order.
    let read: @Sendable (Op) -> [Attribute]
    /// Builds the op from attributes read from text.
    let build: @Sendable (inout AttributeReader) throws -> Op
    /// The type rule: the result type from the operands' types (and the declared type, for ops
    /// whose result does not follow from their operands).
    let type: @Sendable (Op, [TensorType], TensorType?) throws -> TensorType
    /// What the op computes at one element (elementwise ops and `constant`).
    let meaning: (@Sendable (Op, ElementTypes) -> ScalarExpression)?
    /// The matrix product or convolution the op computes (contractions).
    let contraction: (@Sendable (Op, [TensorType], TensorType) -> Contraction?)?

    init(_ kind: OpKind, group: OpGroup, arity: Arity, attributes: [String] = [],
         read: @escaping @Sendable (Op) -> [Attribute] = { _ in [] },
         build: @escaping @Sendable (inout AttributeReader) throws -> Op,
         type: @escaping @Sendable (Op, [TensorType], TensorType?) throws -> TensorType,
         meaning: (@Sendable (Op, ElementTypes) -> ScalarExpression)? = nil,
         contraction: (@Sendable (Op, [TensorType], TensorType) -> Contraction?)? = nil) {
        self.kind = kind
        self.group = group
        self.arity = arity
        self.attributeNames = attributes
        self.read = read
        self.build = build
        self.type = type
        self.meaning = meaning
        self.contraction = contraction
    }

    /// The op's spelling in the IR text form.
    public var name: String { kind.rawValue }

    /// Whether ops of this kind are computed element by element from a scalar meaning
    /// (elementwise ops and `constant`).
    public var hasScalarMeaning: Bool { meaning != nil }

    // MARK: Families

    /// `input`, `param` or `state`: declared with a name, never built from a statement.
    static func declaration(_ kind: OpKind) -> OpDefinition {
        OpDefinition(kind, group: .declaration, arity: .fixed(0),
                     build: { _ in throw TypeError("\(kind.rawValue) is declared, not computed: write `\(kind.rawValue) @name : type`") },
                     type: TypeRules.declared)
    }

    /// An elementwise op without attributes whose meaning depends on its element types; its
    /// arity is the number of operands the meaning reads.
    static func elementwise(_ op: Op,
                            type: @escaping @Sendable (Op, [TensorType], TensorType?) throws -> TensorType,
                            meaning: @escaping @Sendable (ElementTypes) -> ScalarExpression) -> OpDefinition {
        let probe = meaning(ElementTypes(operands: [DType](repeating: .f32, count: 8), result: .f32))
        return OpDefinition(op.kind, group: .elementwise, arity: .fixed(probe.operandCount), build: { _ in op },
                            type: type, meaning: { _, types in meaning(types) })
    }

    /// An elementwise op without attributes whose meaning is the same at every element type.
    static func elementwise(_ op: Op, type: @escaping @Sendable (Op, [TensorType], TensorType?) throws -> TensorType,
                            meaning: @escaping @Sendable () -> ScalarExpression) -> OpDefinition {
        elementwise(op, type: type) { _ in meaning() }
    }

    /// `reduce_sum`, `reduce_mean` or `reduce_max` over the attribute `axes`.
    static func reduction(_ kind: OpKind, _ make: @escaping @Sendable ([Int]) -> Op) -> OpDefinition {
        OpDefinition(kind, group: .reduction, arity: .fixed(1), attributes: ["axes"],
                     read: { op in [ints(op.reducedAxes ?? [])] },
                     build: { make(try $0.ints("axes")) },
                     type: TypeRules.reduction)
    }

    /// A layout op without attributes (its result shape is the declared type's).
    static func layout(_ op: Op, type: @escaping @Sendable (Op, [TensorType], TensorType?) throws -> TensorType) -> OpDefinition {
        OpDefinition(op.kind, group: .layout, arity: .fixed(1), build: { _ in op }, type: type)
    }

    /// `conv2d` or one of its gradients, with attributes `stride` and `padding`.
    static func convolution(_ kind: OpKind, _ direction: ConvolutionDirection,
                            _ make: @escaping @Sendable ([Int], [Int]) -> Op) -> OpDefinition {
        OpDefinition(kind, group: .contraction, arity: .fixed(2), attributes: ["padding", "stride"],
                     read: { op in
                         let window = op.convolutionWindow ?? ([], [])
                         return [ints(window.padding), ints(window.stride)]
                     },
                     build: { make(try $0.ints("stride"), try $0.ints("padding")) },
                     type: { op, operands, declared in try TypeRules.convolution(op, direction, operands, declared) },
                     contraction: { op, operands, result in
                         guard let window = op.convolutionWindow else { return nil }
                         let (input, filter) = ConvolutionGeometry.inputAndFilter(direction, operands: operands, result: result)
                         return .convolution(ConvolutionGeometry(input: input.shape, filter: filter.shape, stride: window.stride,
                                                                 padding: window.padding),
                                             direction, batch: input.shape[0])
                     })
    }

    /// An integer-list attribute.
    static func ints(_ values: [Int]) -> Attribute { .list(values.map(Attribute.int)) }
}

extension ScalarExpression {
    /// How many operands the expression reads: one more than the largest operand index.
    var operandCount: Int {
        switch self {
        case .operand(let index): index + 1
        case .literal: 0
        case .function(_, let x), .convert(let x, _, _): x.operandCount
        case .arithmetic(_, let a, let b), .compare(_, let a, let b): Swift.max(a.operandCount, b.operandCount)
        case .select(let p, let a, let b): Swift.max(p.operandCount, a.operandCount, b.operandCount)
        }
    }
}

// MARK: - The table

extension OpKind {
    /// Every kind's definition, made once.
    private static let definitions: [OpKind: OpDefinition] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0, $0.makeDefinition()) })

    /// The definition of this kind of op.
    public var definition: OpDefinition { OpKind.definitions[self]! }

    /// The kinds that can be written as a statement, by text name (every kind but the declarations).
    static let statements: [String: OpKind] = Dictionary(
        uniqueKeysWithValues: allCases.filter { $0.definition.group != .declaration }.map { ($0.rawValue, $0) })
}

// MARK: - The Op API

extension Op {
    /// The definition of the op's kind.
    public var definition: OpDefinition { kind.definition }

    /// The op's spelling in the IR text form.
    public var name: String { kind.rawValue }

    /// The op's group (elementwise, reduction, layout, ...).
    public var group: OpGroup { definition.group }

    /// The op's attributes in the order the text form prints them (sorted by name).
    public var attributes: [(name: String, value: Attribute)] {
        let definition = self.definition
        return Array(zip(definition.attributeNames, definition.read(self))).map { (name: $0.0, value: $0.1) }
    }

    /// Builds an op from its text name and attributes (the parser's entry point).
    /// Leaves that carry a name (`input`, `param`, `state`) are declarations, not statements,
    /// and are not built here.
    public init(name: String, attributes: [String: Attribute]) throws {
        guard let kind = OpKind.statements[name] else {
            guard OpKind(rawValue: name) == nil else {
                throw TypeError("\(name) is declared, not computed: write `\(name) @name : type`")
            }
            throw TypeError("unknown op '\(name)'")
        }
        var reader = AttributeReader(op: name, attributes: attributes)
        self = try kind.definition.build(&reader)
        try reader.finish()
    }

    /// Every op name the text form accepts in a statement.
    public static var statementNames: [String] { OpKind.statements.keys.sorted() }

    /// Number of operands the op takes; `nil` for variadic ops (`concat`, at least one).
    public var arity: Int? {
        switch definition.arity {
        case .fixed(let count): count
        case .atLeast: nil
        }
    }

    /// Leaves with no operands.
    public var isLeaf: Bool { definition.arity == .fixed(0) }

    /// `input`, `param` and `state`: leaves that carry a name and are declared, not computed.
    public var declaredName: String? {
        if case .input(let name) = self { return name }
        if case .param(let name) = self { return name }
        if case .state(let name) = self { return name }
        return nil
    }

    /// `param` and `state`: the declarations an assign may write.
    public var isVariable: Bool { kind == .param || kind == .state }

    /// What the op computes at one element, for operands and a result of these element types;
    /// nil for ops that are not elementwise (and not `constant`).
    public func scalarMeaning(_ types: ElementTypes) -> ScalarExpression? {
        definition.meaning?(self, types)
    }

    /// The matrix product or convolution a contraction computes on operands of these types.
    public func contraction(operands: [TensorType], result: TensorType) -> Contraction? {
        definition.contraction?(self, operands, result)
    }
}

extension Dictionary where Key == OpKind {
    /// A stage's table assembled from its families' parts (a family whose code has a file of
    /// its own keeps its entries there); a kind in two parts is a bug in Graft.
    public init(families parts: [[OpKind: Value]]) {
        self.init()
        for part in parts {
            merge(part) { _, _ in preconditionFailure("an op kind has entries in two families' parts of one stage's table") }
        }
    }
}
