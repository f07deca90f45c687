// Pass: the protocol of a graph-to-graph rewrite, and the context passes share.

import GraftIR

/// A graph-to-graph rewrite. Each pass lives in its own file, whose header says what it does
/// and why. The `PassManager` verifies the graph after every pass.
public protocol Pass {
    /// The name shown in `// ----- IR after <name> ----- //` headers and accepted by
    /// `graft opt --passes`.
    var name: String { get }
    func run(_ graph: inout Graph, _ context: inout PassContext) throws
}

/// What passes know beyond the graph itself: how variables are initialised and what they are
/// for, and what earlier passes produced that later ones consume.
public struct PassContext: Sendable {
    /// Initialisation and role of every param and state, by name; passes that declare new
    /// variables (target weights, optimizer buffers) add theirs.
    public var variables: [String: VariableInfo]
    /// Initial values of every param and state, by name.
    public var initialValues: [String: HostTensor]
    /// The seed new variables draw their initial values with.
    public var seed: UInt64
    /// Set by `Autodiff`: the params whose gradients are the graph's last outputs, in order.
    public var gradientNames: [String] = []
    /// Set by `MakeTarget`: each target variable and the online variable it shadows.
    public var targetPairs: [(target: String, online: String)] = []

    public init(variables: [String: VariableInfo] = [:], initialValues: [String: HostTensor] = [:], seed: UInt64 = 0) {
        self.variables = variables
        self.initialValues = initialValues
        self.seed = seed
    }

    /// Declares the initialisation of a new variable and draws its initial value.
    public mutating func addVariable(_ name: String, type: TensorType, info: VariableInfo) {
        variables[name] = info
        initialValues[name] = info.initializer.values(type, name: name, seed: seed)
    }
}
