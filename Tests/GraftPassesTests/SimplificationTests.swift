// Golden before/after IR text for every simplification rule and pass, and a semantic check of
// the whole simplification pipeline against the reference interpreter.
//
// Golden tests print the graph after the passes and compare it with the expected text. Where a
// rewrite changes a graph, the interpreter also runs it before and after on the same values,
// which must agree bit for bit (the rules and folds are exact); the pipeline check on a
// differentiated MLP allows 1e-6 relative.

import Testing
import GraftIR
@testable import GraftPasses
import GraftInterpreter

/// One golden rewrite: IR text in, the printed IR expected out.
struct RewriteCase: CustomTestStringConvertible, Sendable {
    let name: String
    let input: String
    let expected: String
    var testDescription: String { name }

    init(_ name: String, _ input: String, _ expected: String) {
        self.name = name
        self.input = input
        self.expected = expected
    }
}

/// Parses `text`, runs `passes` (verifying after each) and returns the graph before and after.
private func rewrite(_ text: String, _ passes: [any Pass]) throws -> (before: Graph, after: Graph) {
    let before = try Parser.parse(text)
    var after = before
    try PassManager(passes).run(&after)
    return (before, after)
}

/// Deterministic values for every input, param and state a graph declares (bool as 0/1).
func sampleValues(_ graph: Graph, seed: UInt64 = 7) -> (inputs: [String: HostTensor], variables: [String: HostTensor]) {
    var inputs: [String: HostTensor] = [:]
    var variables: [String: HostTensor] = [:]
    for id in graph.nodes.indices {
        let node = graph[id]
        guard let name = node.op.declaredName else { continue }
        var generator = SplitMix64(seed: seed, name: name)
        let scalars = (0..<node.type.elementCount).map { _ -> Float in
            let u = generator.nextUnit()
            switch node.type.dtype {
            case .bool: return u < 0.5 ? 0 : 1
            case .i32: return Float(Int(u * 10) - 5)
            case .f32: return Float(u * 4 - 2)
            }
        }
        let value = HostTensor(node.type, scalars)
        if case .input = node.op { inputs[name] = value } else { variables[name] = value }
    }
    return (inputs, variables)
}

/// The interpreter gives bit-identical outputs and assigns for `before` and `after`.
private func expectSameResults(_ before: Graph, _ after: Graph, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let (inputs, variables) = sampleValues(before)
    let old = try Interpreter().run(before, inputs: inputs, variables: variables)
    let new = try Interpreter().run(after, inputs: inputs, variables: variables)
    let bits = { (tensors: [HostTensor]) in tensors.map { ($0.type, $0.scalars.map(\.bitPattern)) } }
    #expect(bits(old.outputs).elementsEqual(bits(new.outputs)) { $0.0 == $1.0 && $0.1 == $1.1 },
            "outputs differ: \(old.outputs) vs \(new.outputs)", sourceLocation: sourceLocation)
    #expect(old.variables == new.variables, sourceLocation: sourceLocation)
}

@Suite struct SimplificationTests {
    // MARK: AlgebraicSimplification

    /// One case per rule of `AlgebraicSimplification.rules`, named by the rule's comment
    /// (the identity rule for `reshape` also covers `broadcast` and `convert`).
    static let ruleCases: [RewriteCase] = [
        RewriteCase("mul(x, 1) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 1.0} : f32[3]
              %1 = mul(%x, %0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("mul(1, x) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 1.0} : f32[3]
              %1 = mul(%0, %x) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("add(x, 0) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 0.0} : f32[3]
              %1 = add(%x, %0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("add(0, x) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 0.0} : f32[3]
              %1 = add(%0, %x) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("sub(x, 0) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 0.0} : f32[3]
              %1 = sub(%x, %0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("div(x, 1) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 1.0} : f32[3]
              %1 = div(%x, %0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("neg(neg(x)) -> x", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = neg(%x) : f32[3]
              %1 = neg(%0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("add(x, neg(y)) -> sub(x, y)", """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = neg(%y) : f32[3]
              %1 = add(%x, %0) : f32[3]
              return %1 : f32[3]
            }
            """, """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = sub(%x, %y) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("sub(x, neg(y)) -> add(x, y)", """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = neg(%y) : f32[3]
              %1 = sub(%x, %0) : f32[3]
              return %1 : f32[3]
            }
            """, """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = add(%x, %y) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("reshape(x) : type(x) -> x", """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = reshape(%x) : f32[2,3]
              %1 = exp(%0) : f32[2,3]
              return %1 : f32[2,3]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = exp(%x) : f32[2,3]
              return %0 : f32[2,3]
            }
            """),
        RewriteCase("reshape(x) : type(x) -> x (broadcast)", """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = broadcast(%x) : f32[2,3]
              %1 = exp(%0) : f32[2,3]
              return %1 : f32[2,3]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = exp(%x) : f32[2,3]
              return %0 : f32[2,3]
            }
            """),
        RewriteCase("reshape(x) : type(x) -> x (convert)", """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = convert(%x) : f32[2,3]
              %1 = exp(%0) : f32[2,3]
              return %1 : f32[2,3]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = exp(%x) : f32[2,3]
              return %0 : f32[2,3]
            }
            """),
        RewriteCase("reshape(reshape(x)) -> reshape(x)", """
            graph @g(%x: f32[2,3]) -> (f32[3,2]) {
              %0 = reshape(%x) : f32[6]
              %1 = reshape(%0) : f32[3,2]
              return %1 : f32[3,2]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[3,2]) {
              %0 = reshape(%x) : f32[3,2]
              return %0 : f32[3,2]
            }
            """),
        RewriteCase("transpose(x) {identity} -> x", """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = transpose(%x) {permutation = [0, 1]} : f32[2,3]
              %1 = exp(%0) : f32[2,3]
              return %1 : f32[2,3]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = exp(%x) : f32[2,3]
              return %0 : f32[2,3]
            }
            """),
        RewriteCase("transpose(transpose(x)) -> transpose(x) {composed}", """
            graph @g(%x: f32[2,3,4]) -> (f32[4,3,2]) {
              %0 = transpose(%x) {permutation = [1, 2, 0]} : f32[3,4,2]
              %1 = transpose(%0) {permutation = [1, 0, 2]} : f32[4,3,2]
              return %1 : f32[4,3,2]
            }
            """, """
            graph @g(%x: f32[2,3,4]) -> (f32[4,3,2]) {
              %0 = transpose(%x) {permutation = [2, 1, 0]} : f32[4,3,2]
              return %0 : f32[4,3,2]
            }
            """),
        RewriteCase("stop_gradient(stop_gradient(x)) -> stop_gradient(x)", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = stop_gradient(%x) : f32[3]
              %1 = stop_gradient(%0) : f32[3]
              %2 = exp(%1) : f32[3]
              return %2 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = stop_gradient(%x) : f32[3]
              %1 = exp(%0) : f32[3]
              return %1 : f32[3]
            }
            """),
        RewriteCase("select(p, x, x) -> x", """
            graph @g(%p: bool[3], %x: f32[3]) -> (f32[3]) {
              %0 = select(%p, %x, %x) : f32[3]
              %1 = exp(%0) : f32[3]
              return %1 : f32[3]
            }
            """, """
            graph @g(%p: bool[3], %x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
    ]

    @Test(arguments: ruleCases)
    func algebraicRule(_ rule: RewriteCase) throws {
        let (before, after) = try rewrite(rule.input, [AlgebraicSimplification(), DeadCodeElimination()])
        #expect(Printer().print(after) == rule.expected + "\n")
        try expectSameResults(before, after)
    }

    @Test func everyRuleHasAGoldenCase() {
        let ruleNames = Set(Self.ruleCases.map { $0.name.components(separatedBy: " (").first! })
        #expect(ruleNames.count == AlgebraicSimplification.rules.count)
    }

    /// Rewrites that need more than one rule, and identities the pass must not apply.
    static let compoundCases: [RewriteCase] = [
        RewriteCase("transposes composing to the identity vanish", """
            graph @g(%x: f32[2,3,4]) -> (f32[2,3,4]) {
              %0 = transpose(%x) {permutation = [1, 2, 0]} : f32[3,4,2]
              %1 = transpose(%0) {permutation = [2, 0, 1]} : f32[2,3,4]
              %2 = exp(%1) : f32[2,3,4]
              return %2 : f32[2,3,4]
            }
            """, """
            graph @g(%x: f32[2,3,4]) -> (f32[2,3,4]) {
              %0 = exp(%x) : f32[2,3,4]
              return %0 : f32[2,3,4]
            }
            """),
        RewriteCase("a reshape back to the original shape vanishes", """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = reshape(%x) : f32[6]
              %1 = reshape(%0) : f32[2,3]
              %2 = exp(%1) : f32[2,3]
              return %2 : f32[2,3]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[2,3]) {
              %0 = exp(%x) : f32[2,3]
              return %0 : f32[2,3]
            }
            """),
        RewriteCase("mul(x, 0) is kept (it would hide NaN and inf)", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 0.0} : f32[3]
              %1 = mul(%x, %0) : f32[3]
              return %1 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 0.0} : f32[3]
              %1 = mul(%x, %0) : f32[3]
              return %1 : f32[3]
            }
            """),
        RewriteCase("sub(0, x) and a reshape to a new shape are kept", """
            graph @g(%x: f32[2,3]) -> (f32[6]) {
              %0 = constant() {value = 0.0} : f32[2,3]
              %1 = sub(%0, %x) : f32[2,3]
              %2 = reshape(%1) : f32[6]
              return %2 : f32[6]
            }
            """, """
            graph @g(%x: f32[2,3]) -> (f32[6]) {
              %0 = constant() {value = 0.0} : f32[2,3]
              %1 = sub(%0, %x) : f32[2,3]
              %2 = reshape(%1) : f32[6]
              return %2 : f32[6]
            }
            """),
    ]

    @Test(arguments: compoundCases)
    func algebraicRewrite(_ rule: RewriteCase) throws {
        let (before, after) = try rewrite(rule.input, [AlgebraicSimplification(), DeadCodeElimination()])
        #expect(Printer().print(after) == rule.expected + "\n")
        try expectSameResults(before, after)
    }

    // MARK: ConstantFolding

    /// A graph without inputs whose body computes only on constants; folded, it returns one
    /// constant of `type` with the given value.
    static func folding(_ name: String, _ body: String, _ type: String, to value: String) -> RewriteCase {
        RewriteCase(name, """
            graph @g() -> (\(type)) {
            \(body)
            }
            """, """
            graph @g() -> (\(type)) {
              %0 = constant() {value = \(value)} : \(type)
              return %0 : \(type)
            }
            """)
    }

    static func unary(_ op: String, _ operand: String, to value: String) -> RewriteCase {
        folding("\(op)(\(operand))", """
              %0 = constant() {value = \(operand)} : f32[2]
              %1 = \(op)(%0) : f32[2]
              return %1 : f32[2]
            """, "f32[2]", to: value)
    }

    static func binary(_ op: String, _ a: String, _ b: String, to value: String, attributes: String = "",
                       type: String = "f32[2]") -> RewriteCase {
        folding("\(op)(\(a), \(b))\(attributes)", """
              %0 = constant() {value = \(a)} : f32[2]
              %1 = constant() {value = \(b)} : f32[2]
              %2 = \(op)(%0, %1)\(attributes) : \(type)
              return %2 : \(type)
            """, type, to: value)
    }

    static let foldingCases: [RewriteCase] = [
        unary("neg", "2.0", to: "-2.0"),
        unary("abs", "-3.0", to: "3.0"),
        unary("exp", "0.0", to: "1.0"),
        unary("log", "1.0", to: "0.0"),
        unary("sqrt", "4.0", to: "2.0"),
        unary("rsqrt", "4.0", to: "0.5"),
        unary("tanh", "0.0", to: "0.0"),
        unary("relu", "-1.5", to: "0.0"),
        unary("relu", "1.5", to: "1.5"),
        unary("stop_gradient", "1.5", to: "1.5"),
        binary("add", "1.5", "2.0", to: "3.5"),
        binary("sub", "1.0", "0.25", to: "0.75"),
        binary("mul", "3.0", "4.0", to: "12.0"),
        binary("div", "1.0", "4.0", to: "0.25"),
        binary("max", "1.0", "2.0", to: "2.0"),
        binary("min", "1.0", "2.0", to: "1.0"),
        binary("compare", "1.0", "2.0", to: "1.0", attributes: " {direction = lt}", type: "bool[2]"),
        binary("compare", "1.0", "2.0", to: "0.0", attributes: " {direction = ge}", type: "bool[2]"),
        folding("select(constant true, a, b)", """
              %0 = constant() {value = 1.0} : bool[2]
              %1 = constant() {value = 5.0} : f32[2]
              %2 = constant() {value = 7.0} : f32[2]
              %3 = select(%0, %1, %2) : f32[2]
              return %3 : f32[2]
            """, "f32[2]", to: "5.0"),
        folding("select(constant false, a, b)", """
              %0 = constant() {value = 0.0} : bool[2]
              %1 = constant() {value = 5.0} : f32[2]
              %2 = constant() {value = 7.0} : f32[2]
              %3 = select(%0, %1, %2) : f32[2]
              return %3 : f32[2]
            """, "f32[2]", to: "7.0"),
        folding("convert f32 -> i32 rounds toward zero", """
              %0 = constant() {value = -2.75} : f32[2]
              %1 = convert(%0) : i32[2]
              return %1 : i32[2]
            """, "i32[2]", to: "-2.0"),
        folding("convert f32 -> bool", """
              %0 = constant() {value = 0.5} : f32[2]
              %1 = convert(%0) : bool[2]
              return %1 : bool[2]
            """, "bool[2]", to: "1.0"),
        folding("broadcast of a constant", """
              %0 = constant() {value = 2.0} : f32[]
              %1 = broadcast(%0) : f32[2,3]
              return %1 : f32[2,3]
            """, "f32[2,3]", to: "2.0"),
        folding("reshape of a constant", """
              %0 = constant() {value = 2.0} : f32[2,3]
              %1 = reshape(%0) : f32[6]
              return %1 : f32[6]
            """, "f32[6]", to: "2.0"),
        folding("a chain folds in one pass: 1 - 0.5 * broadcast(3)", """
              %0 = constant() {value = 3.0} : f32[]
              %1 = broadcast(%0) : f32[2]
              %2 = constant() {value = 0.5} : f32[2]
              %3 = mul(%2, %1) : f32[2]
              %4 = constant() {value = 1.0} : f32[2]
              %5 = sub(%4, %3) : f32[2]
              return %5 : f32[2]
            """, "f32[2]", to: "-0.5"),
        RewriteCase("a value with a non-constant operand is not folded", """
            graph @g(%x: f32[2]) -> (f32[2]) {
              param @w : f32[2] {init = zeros, role = weight}
              %0 = constant() {value = 2.0} : f32[]
              %1 = broadcast(%0) : f32[2]
              %2 = add(%x, %1) : f32[2]
              %3 = exp(@w) : f32[2]
              %4 = mul(%2, %3) : f32[2]
              return %4 : f32[2]
            }
            """, """
            graph @g(%x: f32[2]) -> (f32[2]) {
              param @w : f32[2] {init = zeros, role = weight}
              %0 = constant() {value = 2.0} : f32[2]
              %1 = add(%x, %0) : f32[2]
              %2 = exp(@w) : f32[2]
              %3 = mul(%1, %2) : f32[2]
              return %3 : f32[2]
            }
            """),
        RewriteCase("iota and reductions of constants are not folded", """
            graph @g() -> (f32[]) {
              %0 = iota() {axis = 0} : f32[3]
              %1 = reduce_sum(%0) {axes = [0]} : f32[]
              %2 = constant() {value = 2.0} : f32[3]
              %3 = reduce_sum(%2) {axes = [0]} : f32[]
              %4 = add(%1, %3) : f32[]
              return %4 : f32[]
            }
            """, """
            graph @g() -> (f32[]) {
              %0 = iota() {axis = 0} : f32[3]
              %1 = reduce_sum(%0) {axes = [0]} : f32[]
              %2 = constant() {value = 2.0} : f32[3]
              %3 = reduce_sum(%2) {axes = [0]} : f32[]
              %4 = add(%1, %3) : f32[]
              return %4 : f32[]
            }
            """),
    ]

    @Test(arguments: foldingCases)
    func constantFolding(_ fold: RewriteCase) throws {
        let (before, after) = try rewrite(fold.input, [ConstantFolding()])
        #expect(Printer().print(after) == fold.expected + "\n")
        try expectSameResults(before, after)
    }

    /// Folding `convert` agrees with the interpreter's conversion, also out of the i32 range
    /// and for non-finite values.
    @Test(arguments: [Float(2.5), -2.5, 1e10, -1e10, 3e9, -0x1p31, .infinity, .nan])
    func foldedConvertMatchesTheInterpreter(_ value: Float) throws {
        for dtype in ["i32", "bool"] {
            let (before, after) = try rewrite("""
                graph @g() -> (\(dtype)[]) {
                  %0 = constant() {value = \(Attribute.format(value))} : f32[]
                  %1 = convert(%0) : \(dtype)[]
                  return %1 : \(dtype)[]
                }
                """, [ConstantFolding()])
            try expectSameResults(before, after)
        }
    }

    // MARK: CommonSubexpressionElimination

    static let cseCases: [RewriteCase] = [
        RewriteCase("duplicate constants merge", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 2.0} : f32[3]
              %1 = mul(%x, %0) : f32[3]
              %2 = constant() {value = 2.0} : f32[3]
              %3 = add(%1, %2) : f32[3]
              return %3 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = constant() {value = 2.0} : f32[3]
              %1 = mul(%x, %0) : f32[3]
              %2 = add(%1, %0) : f32[3]
              return %2 : f32[3]
            }
            """),
        RewriteCase("duplicate ops on the same operands merge, transitively", """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              %1 = mul(%0, %y) : f32[3]
              %2 = exp(%x) : f32[3]
              %3 = mul(%2, %y) : f32[3]
              %4 = sub(%1, %3) : f32[3]
              return %4 : f32[3]
            }
            """, """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              %1 = mul(%0, %y) : f32[3]
              %2 = sub(%1, %1) : f32[3]
              return %2 : f32[3]
            }
            """),
        RewriteCase("params and states of one type stay apart", """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              param @a : f32[3] {init = zeros, role = weight}
              param @b : f32[3] {init = zeros, role = weight}
              state @s : f32[3] {init = zeros, role = statistic}
              state @t : f32[3] {init = zeros, role = statistic}
              %0 = add(@a, @b) : f32[3]
              %1 = add(@s, @t) : f32[3]
              %2 = add(%x, %y) : f32[3]
              %3 = add(%0, %1) : f32[3]
              %4 = add(%3, %2) : f32[3]
              return %4 : f32[3]
            }
            """, """
            graph @g(%x: f32[3], %y: f32[3]) -> (f32[3]) {
              param @a : f32[3] {init = zeros, role = weight}
              param @b : f32[3] {init = zeros, role = weight}
              state @s : f32[3] {init = zeros, role = statistic}
              state @t : f32[3] {init = zeros, role = statistic}
              %0 = add(@a, @b) : f32[3]
              %1 = add(@s, @t) : f32[3]
              %2 = add(%x, %y) : f32[3]
              %3 = add(%0, %1) : f32[3]
              %4 = add(%3, %2) : f32[3]
              return %4 : f32[3]
            }
            """),
        RewriteCase("different attributes, operand orders or types stay apart", """
            graph @g(%x: f32[2,2], %y: f32[2,2]) -> (f32[2], f32[2], bool[2,2], bool[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2,2]) {
              %0 = reduce_sum(%x) {axes = [0]} : f32[2]
              %1 = reduce_sum(%x) {axes = [1]} : f32[2]
              %2 = compare(%x, %y) {direction = lt} : bool[2,2]
              %3 = compare(%x, %y) {direction = gt} : bool[2,2]
              %4 = constant() {value = 1.0} : f32[2,2]
              %5 = constant() {value = 2.0} : f32[2,2]
              %6 = sub(%x, %y) : f32[2,2]
              %7 = sub(%y, %x) : f32[2,2]
              %8 = transpose(%x) {permutation = [1, 0]} : f32[2,2]
              %9 = broadcast(%x) : f32[2,2,2]
              return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : f32[2], f32[2], bool[2,2], bool[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2,2]
            }
            """, """
            graph @g(%x: f32[2,2], %y: f32[2,2]) -> (f32[2], f32[2], bool[2,2], bool[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2,2]) {
              %0 = reduce_sum(%x) {axes = [0]} : f32[2]
              %1 = reduce_sum(%x) {axes = [1]} : f32[2]
              %2 = compare(%x, %y) {direction = lt} : bool[2,2]
              %3 = compare(%x, %y) {direction = gt} : bool[2,2]
              %4 = constant() {value = 1.0} : f32[2,2]
              %5 = constant() {value = 2.0} : f32[2,2]
              %6 = sub(%x, %y) : f32[2,2]
              %7 = sub(%y, %x) : f32[2,2]
              %8 = transpose(%x) {permutation = [1, 0]} : f32[2,2]
              %9 = broadcast(%x) : f32[2,2,2]
              return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : f32[2], f32[2], bool[2,2], bool[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2], f32[2,2,2]
            }
            """),
        RewriteCase("constants of one value and different types stay apart", """
            graph @g() -> (f32[2], f32[3], i32[2]) {
              %0 = constant() {value = 1.0} : f32[2]
              %1 = constant() {value = 1.0} : f32[3]
              %2 = constant() {value = 1.0} : i32[2]
              return %0, %1, %2 : f32[2], f32[3], i32[2]
            }
            """, """
            graph @g() -> (f32[2], f32[3], i32[2]) {
              %0 = constant() {value = 1.0} : f32[2]
              %1 = constant() {value = 1.0} : f32[3]
              %2 = constant() {value = 1.0} : i32[2]
              return %0, %1, %2 : f32[2], f32[3], i32[2]
            }
            """),
        RewriteCase("0 and -0 constants stay apart (1/0 is inf, 1/-0 is -inf)", """
            graph @g(%x: f32[2]) -> (f32[2], f32[2]) {
              %0 = constant() {value = 0.0} : f32[2]
              %1 = div(%x, %0) : f32[2]
              %2 = constant() {value = -0.0} : f32[2]
              %3 = div(%x, %2) : f32[2]
              return %1, %3 : f32[2], f32[2]
            }
            """, """
            graph @g(%x: f32[2]) -> (f32[2], f32[2]) {
              %0 = constant() {value = 0.0} : f32[2]
              %1 = div(%x, %0) : f32[2]
              %2 = constant() {value = -0.0} : f32[2]
              %3 = div(%x, %2) : f32[2]
              return %1, %3 : f32[2], f32[2]
            }
            """),
    ]

    @Test(arguments: cseCases)
    func commonSubexpressionElimination(_ cse: RewriteCase) throws {
        let (before, after) = try rewrite(cse.input, [CommonSubexpressionElimination()])
        #expect(Printer().print(after) == cse.expected + "\n")
        try expectSameResults(before, after)
    }

    // MARK: DeadCodeElimination

    static let dceCases: [RewriteCase] = [
        RewriteCase("a dead chain is removed", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = exp(%x) : f32[3]
              %1 = log(%0) : f32[3]
              %2 = mul(%1, %1) : f32[3]
              %3 = neg(%x) : f32[3]
              return %3 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              %0 = neg(%x) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("unused inputs, params and states are kept", """
            graph @g(%x: f32[3], %unused: f32[2]) -> (f32[3]) {
              param @w : f32[3] {init = zeros, role = weight}
              param @idle : f32[4] {init = zeros, role = weight}
              state @s : f32[1] {init = zeros, role = statistic}
              %0 = exp(@idle) : f32[4]
              %1 = mul(%x, @w) : f32[3]
              return %1 : f32[3]
            }
            """, """
            graph @g(%x: f32[3], %unused: f32[2]) -> (f32[3]) {
              param @w : f32[3] {init = zeros, role = weight}
              param @idle : f32[4] {init = zeros, role = weight}
              state @s : f32[1] {init = zeros, role = statistic}
              %0 = mul(%x, @w) : f32[3]
              return %0 : f32[3]
            }
            """),
        RewriteCase("values read only by assigns are kept", """
            graph @g(%x: f32[3]) -> (f32[3]) {
              state @s : f32[3] {init = zeros, role = statistic}
              %0 = exp(%x) : f32[3]
              %1 = mul(@s, %x) : f32[3]
              %2 = add(%1, %x) : f32[3]
              %3 = neg(%x) : f32[3]
              assign @s, %2
              return %3 : f32[3]
            }
            """, """
            graph @g(%x: f32[3]) -> (f32[3]) {
              state @s : f32[3] {init = zeros, role = statistic}
              %0 = mul(@s, %x) : f32[3]
              %1 = add(%0, %x) : f32[3]
              %2 = neg(%x) : f32[3]
              assign @s, %1
              return %2 : f32[3]
            }
            """),
    ]

    @Test(arguments: dceCases)
    func deadCodeElimination(_ dce: RewriteCase) throws {
        let (before, after) = try rewrite(dce.input, [DeadCodeElimination()])
        #expect(Printer().print(after) == dce.expected + "\n")
        try expectSameResults(before, after)
    }

    // MARK: The whole pipeline on a differentiated MLP

    /// A two-layer MLP with a mean-squared-error loss; the forward pass spells out identities
    /// (×1, +0, reshape round trips, double transposes) the simplifier should remove.
    static let mlp = """
        graph @mlp(%x: f32[4,3], %y: f32[4,2]) -> (f32[]) {
          param @l1.weight : f32[3,5] {init = zeros, role = weight}
          param @l1.bias : f32[5] {init = zeros, role = bias}
          param @l2.weight : f32[2,5] {init = zeros, role = weight}
          param @l2.bias : f32[2] {init = zeros, role = bias}
          %0 = matmul(%x, @l1.weight) {transpose_a = false, transpose_b = false} : f32[4,5]
          %1 = broadcast(@l1.bias) : f32[4,5]
          %2 = add(%0, %1) : f32[4,5]
          %3 = relu(%2) : f32[4,5]
          %4 = constant() {value = 1.0} : f32[]
          %5 = broadcast(%4) : f32[4,5]
          %6 = mul(%3, %5) : f32[4,5]
          %7 = transpose(@l2.weight) {permutation = [1, 0]} : f32[5,2]
          %8 = transpose(%7) {permutation = [1, 0]} : f32[2,5]
          %9 = matmul(%6, %8) {transpose_a = false, transpose_b = true} : f32[4,2]
          %10 = broadcast(@l2.bias) : f32[4,2]
          %11 = add(%9, %10) : f32[4,2]
          %12 = tanh(%11) : f32[4,2]
          %13 = sub(%12, %y) : f32[4,2]
          %14 = mul(%13, %13) : f32[4,2]
          %15 = reshape(%14) : f32[8]
          %16 = reshape(%15) : f32[4,2]
          %17 = constant() {value = 0.0} : f32[]
          %18 = broadcast(%17) : f32[4,2]
          %19 = add(%16, %18) : f32[4,2]
          %20 = reduce_mean(%19) {axes = [0, 1]} : f32[]
          %21 = constant() {value = 0.5} : f32[]
          %22 = mul(%20, %21) : f32[]
          return %22 : f32[]
        }
        """

    /// Each element agrees within 1e-6 relative to the larger magnitude (exact zeros must
    /// stay zero up to 1e-30).
    private func expectClose(_ a: HostTensor, _ b: HostTensor, _ what: String,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(a.type == b.type, "\(what): types differ", sourceLocation: sourceLocation)
        for (x, y) in zip(a.scalars, b.scalars) {
            let tolerance = 1e-6 * Swift.max(Swift.abs(Double(x)), Swift.abs(Double(y)), 1e-24)
            #expect(Swift.abs(Double(x) - Double(y)) <= tolerance, "\(what): \(x) vs \(y)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["autodiff", "autodiff+adamw", "autodiff+sgd"])
    func simplificationPreservesTheMLPStep(_ stage: String) throws {
        var graph = try Parser.parse(Self.mlp)
        var passes: [any Pass] = [Autodiff()]
        if stage.hasSuffix("adamw") { passes.append(AdamW(weightDecay: 0.1)) }
        if stage.hasSuffix("sgd") { passes.append(SGD(momentum: 0.9, nesterov: true, weightDecay: 0.01)) }
        try PassManager(passes).run(&graph)

        var simplified = graph
        try PassManager(TrainingPipeline.simplification).run(&simplified)
        #expect(simplified.nodes.count < graph.nodes.count, "\(graph.nodes.count) -> \(simplified.nodes.count) nodes")
        // The identities written into the forward pass are gone.
        let printed = Printer().print(simplified)
        #expect(!printed.contains("reshape"))
        #expect(!printed.contains("transpose("))

        var (inputs, variables) = sampleValues(graph, seed: 11)
        inputs["learning_rate"] = HostTensor(scalar: 0.05)
        inputs["step"] = HostTensor(scalar: 3)
        for (name, value) in graph.initialValues(seed: 0) where name.hasPrefix("optimizer.") {
            variables[name] = HostTensor(value.type, value.scalars.indices.map { Float($0 % 3) * 0.25 + 0.1 })
        }
        let before = try Interpreter().run(graph, inputs: inputs, variables: variables)
        let after = try Interpreter().run(simplified, inputs: inputs, variables: variables)
        #expect(before.outputs.count == after.outputs.count)
        for (index, (a, b)) in zip(before.outputs, after.outputs).enumerated() { expectClose(a, b, "output \(index)") }
        #expect(Set(before.variables.keys) == Set(after.variables.keys))
        for (name, value) in before.variables {
            if let other = after.variables[name] { expectClose(value, other, "@\(name)") }
        }
        // The step changes every param (the check above is not comparing untouched inputs).
        if stage != "autodiff" {
            for name in ["l1.weight", "l1.bias", "l2.weight", "l2.bias"] {
                #expect(before.variables[name] != variables[name], "@\(name) was not updated")
            }
        }
    }
}
