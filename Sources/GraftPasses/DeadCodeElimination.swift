// DeadCodeElimination: removes every value no output or assign needs.
//
// Rewrites leave dead values behind (a forward value only the replaced marker read, a
// duplicate CSE redirected, a constant folding made unused). Declarations are kept: they are
// the graph's interface.

import GraftIR

/// Drops values that no output or assign needs.
public struct DeadCodeElimination: Pass, Sendable {
    public let name = "dce"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        graph.rebuild(keeping: graph.liveness)
    }
}
