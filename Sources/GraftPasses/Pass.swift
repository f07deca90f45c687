// Pass: the protocol of a graph-to-graph rewrite.

import GraftIR

/// A graph-to-graph rewrite. Each pass lives in its own file, whose header says what it does
/// and why. The `PassManager` verifies the graph after every pass.
///
/// A pass reads everything it needs from the graph: roles, initializers, target pairs and
/// gradient outputs are in `Graph.variables`, and a pass that declares a variable records
/// its `VariableInfo` there. So the IR text of any stage is the whole stage: `graft opt` can
/// run the remaining passes on it and get what the in-process pipeline gets.
public protocol Pass {
    /// The name shown in `// ----- IR after <name> ----- //` headers and accepted by
    /// `graft opt --passes`.
    var name: String { get }
    /// Rewrites `graph`.
    /// - Throws: a `Diagnostic` when the graph is not one the pass applies to (a user
    ///   mistake, such as running an optimizer before autodiff); it says what to do.
    func run(_ graph: inout Graph) throws
}
