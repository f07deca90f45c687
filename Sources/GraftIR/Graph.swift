// Graph: typed SSA nodes in one array, plus the step's outputs and its state writes.

/// Identifies a value in a graph: the index of the node that defines it.
public typealias ValueID = Int

/// One SSA value and the op that computes it.
public struct Node: Hashable, Sendable {
    public var op: Op
    /// Values this node reads; each is defined earlier in the graph.
    public var operands: [ValueID]
    public var type: TensorType
    /// The DSL call (or IR text line) that made this node.
    public var location: SourceLocation?

    public init(_ op: Op, _ operands: [ValueID] = [], type: TensorType, location: SourceLocation? = nil) {
        self.op = op
        self.operands = operands
        self.type = type
        self.location = location
    }
}

/// A write of a new value into a param or state at the end of a step.
public struct Assign: Hashable, Sendable {
    /// The name of the param or state written.
    public var name: String
    public var value: ValueID
    public var location: SourceLocation?

    public init(name: String, value: ValueID, location: SourceLocation? = nil) {
        self.name = name
        self.value = value
        self.location = location
    }
}

/// A Graft program: nodes in SSA order, the values it returns, the params/state it writes,
/// and what each param and state is (`variables`).
///
/// Graph inputs, params and state are leaf nodes like any other; their order among the nodes
/// is the order of the signature and of the declarations in the text form. All assigns take
/// effect together after the outputs are computed, so every read in a step sees the old value.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var nodes: [Node]
    public var outputs: [ValueID]
    public var assigns: [Assign]
    /// Every param and state by name: its initializer and role, the online variable a target
    /// shadows, the output holding a param's gradient. The text form prints it as each
    /// declaration's attributes; the verifier checks that every param and state has one.
    public var variables: [String: VariableInfo]

    public init(name: String, nodes: [Node] = [], outputs: [ValueID] = [], assigns: [Assign] = [],
                variables: [String: VariableInfo] = [:]) {
        self.name = name
        self.nodes = nodes
        self.outputs = outputs
        self.assigns = assigns
        self.variables = variables
    }

    /// Appends a node and returns its value.
    @discardableResult
    public mutating func append(_ node: Node) -> ValueID {
        nodes.append(node)
        return nodes.count - 1
    }

    public subscript(_ value: ValueID) -> Node {
        get { nodes[value] }
        set { nodes[value] = newValue }
    }

    /// Graph inputs in signature order.
    public var inputs: [ValueID] { nodes.indices.filter { if case .input = nodes[$0].op { true } else { false } } }

    /// Trainable params in declaration order.
    public var params: [ValueID] { nodes.indices.filter { if case .param = nodes[$0].op { true } else { false } } }

    /// State values in declaration order.
    public var states: [ValueID] { nodes.indices.filter { if case .state = nodes[$0].op { true } else { false } } }

    /// The node declaring the input, param or state with this name.
    public func declaration(named name: String) -> ValueID? {
        nodes.indices.first { nodes[$0].op.declaredName == name }
    }

    /// Types of the values the graph returns.
    public var outputTypes: [TensorType] { outputs.map { nodes[$0].type } }
}
