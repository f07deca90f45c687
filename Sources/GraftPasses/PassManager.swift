// PassManager: runs a pipeline of passes, verifying after each and keeping the IR for dumps.

import GraftIR

/// Runs passes in order, verifies the graph after each one, and (when asked) keeps the IR
/// after every pass, MLIR-style, for `graft dump --after-all`.
public struct PassManager {
    public var passes: [any Pass]
    /// Called with each pass's name and the graph after it, when set.
    public var afterEachPass: ((String, Graph) -> Void)?

    public init(_ passes: [any Pass], afterEachPass: ((String, Graph) -> Void)? = nil) {
        self.passes = passes
        self.afterEachPass = afterEachPass
    }

    /// Runs the pipeline on `graph`.
    /// - Throws: a pass's own error (a graph the pass does not apply to), or a `Diagnostic`
    ///   naming the pass whose output does not verify: passes check what they need first, so
    ///   that is a bug in Graft.
    public func run(_ graph: inout Graph) throws {
        for pass in passes {
            try pass.run(&graph)
            do {
                try Verifier.verify(graph)
            } catch let error as Diagnostic {
                throw Diagnostic("the graph after pass '\(pass.name)' does not verify: \(error.message)",
                                 at: error.location, notes: ["this is a bug in Graft; please report it with the model"])
            }
            afterEachPass?(pass.name, graph)
        }
    }

    /// The header printed before the IR after a pass.
    public static func header(after pass: String) -> String { "// ----- IR after \(pass) ----- //" }
}
