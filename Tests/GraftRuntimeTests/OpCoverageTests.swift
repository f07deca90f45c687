// OpCoverageTests: every op kind has an entry in every stage's table, so an op that misses a
// stage fails here rather than in a user's model.

import Testing
import GraftIR
import GraftInterpreter
import GraftPasses
import GraftBackend

@Suite("Op table coverage")
struct OpCoverageTests {
    /// The IR defines the kind, and the interpreter, autodiff and the backend each know it.
    @Test(arguments: OpKind.allCases)
    func everyStageHasAnEntry(_ kind: OpKind) {
        let definition = kind.definition
        #expect(definition.kind == kind)
        #expect(Op.statementNames.contains(kind.rawValue) == (definition.group != .declaration),
                "\(kind.rawValue): statements are exactly the kinds that are not declarations")
        #expect(Interpreter.evaluates(kind), "the interpreter has no evaluation of \(kind.rawValue) (Interpreter+Evaluations.swift)")
        #expect(VJPRules.table[kind] != nil, "VJPRules has no entry for \(kind.rawValue): give it a rule or mark it .stops")
        #expect(KernelCompiler.lowers(kind), "the backend has no lowering of \(kind.rawValue) (Lowering.swift)")
        if definition.group == .elementwise {
            #expect(definition.hasScalarMeaning, "\(kind.rawValue) is elementwise but has no scalar meaning")
        }
    }

    /// Every elementwise kind is compiled and checked against the interpreter by `OpTests`,
    /// forward and (when it has a rule) through its VJP.
    @Test func everyElementwiseKindHasACompiledCase() {
        let tested = Set(opCases.map { $0.statement.prefix { $0 != "(" } })
        let untested = OpKind.allCases.filter { $0.definition.group == .elementwise && !tested.contains(Substring($0.rawValue)) }
        #expect(untested.isEmpty, "elementwise kinds without a case in OpTests' opCases: \(untested.map(\.rawValue))")
    }
}
