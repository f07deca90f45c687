// VJPFiniteDifferenceTests: the VJP rule of every differentiable op checked against central
// differences in the reference interpreter, one case per op and per attribute variant that
// changes the rule (matmul transposes, conv2d stride/padding, broadcast kinds, reduced axes).

import Testing
import GraftIR
import GraftPasses
import GraftInterpreter

/// Where a case draws its param values (and its extra f32 inputs).
enum SampleDomain: Sendable {
    /// Uniform on [−1, 1].
    case anywhere
    /// Uniform on [0.5, 2]: inside the domain of log, sqrt, rsqrt and of a divisor.
    case positive
    /// Distinct values on a 0.1 grid with ±0.02 jitter, drawn jointly for all params: any two are
    /// at least 0.06 apart and every one is at least 0.03 from zero (and from any integer), so a
    /// step of ±h = ±0.01 never crosses a kink of abs, relu, max, min, or a tie of reduce_max.
    case separated
}

/// What a case's autodiff gradient must equal.
enum GradientExpectation: Sendable {
    /// The central differences, within the tolerance below.
    case finiteDifferences
    /// Exactly zero (stop_gradient, whose value depends on the param, but not its gradient).
    case zero
}

/// One op under test: a statement reading params `@…` (and maybe inputs `%…`), wrapped in
///
///     graph @vjp(%r: T, <inputs>) -> (f32[]) {
///       param @… : …
///       %y = <statement> : T
///       %weighted = mul(%y, %r) : T
///       %loss = reduce_sum(%weighted) {axes = [0, …, rank−1]} : f32[]
///       return %loss : f32[]
///     }
///
/// so the loss is ⟨y, r⟩ for a fixed random cotangent `r` whose every element is at least 0.5 in
/// magnitude: every output element reaches the loss, and the gradient is exactly the rule's VJP
/// applied to `r`.
struct VJPCase: Sendable, CustomTestStringConvertible {
    let label: String
    let statement: String
    let params: [String]
    let inputs: [String]
    let domain: SampleDomain
    let expectation: GradientExpectation

    init(_ label: String, _ statement: String, params: String..., inputs: String..., domain: SampleDomain = .anywhere,
         expect expectation: GradientExpectation = .finiteDifferences) {
        self.label = label
        self.statement = statement
        self.params = params
        self.inputs = inputs
        self.domain = domain
        self.expectation = expectation
    }

    var testDescription: String { label }

    /// The op the statement applies.
    var opName: String { String(statement.prefix { $0 != "(" }) }

    /// The whole graph, in the IR text form.
    var text: String {
        let type = String(statement[statement.index(after: statement.lastIndex(of: ":")!)...]).filter { $0 != " " }
        let rank = type.hasSuffix("[]") ? 0 : type.filter { $0 == "," }.count + 1
        let axes = (0..<rank).map(String.init).joined(separator: ", ")
        return """
            graph @vjp(\((["r: \(type)"] + inputs).map { "%" + $0 }.joined(separator: ", "))) -> (f32[]) {
            \(params.map { "  param @\($0) {init = zeros, role = weight}\n" }.joined())\
              %y = \(statement)
              %weighted = mul(%y, %r) : \(type)
              %loss = reduce_sum(%weighted) {axes = [\(axes)]} : f32[]
              return %loss : f32[]
            }
            """
    }

    /// Seeded values for the graph's params and inputs.
    func sample(_ graph: Graph) -> (inputs: [String: HostTensor], variables: [String: HostTensor]) {
        var rng = SplitMix64(seed: 1, name: label)
        func uniform(_ low: Double, _ high: Double) -> Float { Float(low + (high - low) * rng.nextUnit()) }
        func draw(_ type: TensorType) -> HostTensor {
            HostTensor(type, (0..<type.elementCount).map { _ in
                domain == .positive ? uniform(0.5, 2) : uniform(-1, 1)
            })
        }

        var inputs: [String: HostTensor] = [:]
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            let type = graph[id].type
            switch (name, type.dtype) {
            case ("r", _):
                inputs[name] = HostTensor(type, (0..<type.elementCount).map { _ in
                    let magnitude = uniform(0.5, 1.5)
                    return rng.next() & 1 == 0 ? magnitude : -magnitude
                })
            case (_, .bool):   // alternating, so both branches of a select get a cotangent
                inputs[name] = HostTensor(type, (0..<type.elementCount).map { Float(($0 + 1) % 2) })
            case (_, .i32):    // indices 0, 2, 1, 0, 2, ...: every row of a 3-row table, some twice
                inputs[name] = HostTensor(type, (0..<type.elementCount).map { Float((2 * $0) % 3) })
            default: inputs[name] = draw(type)
            }
        }

        var variables: [String: HostTensor] = [:]
        let params = graph.params.compactMap { id -> (String, TensorType)? in
            guard case .param(let name) = graph[id].op else { return nil }
            return (name, graph[id].type)
        }
        if domain == .separated {
            let count = params.map(\.1.elementCount).reduce(0, +)
            var slots = Array((0..<2 * count).shuffled(using: &rng).prefix(count))
            for (name, type) in params {
                variables[name] = HostTensor(type, (0..<type.elementCount).map { _ in
                    Float(0.1 * Double(slots.removeLast() - count) + 0.05) + uniform(-0.02, 0.02)
                })
            }
        } else {
            for (name, type) in params { variables[name] = draw(type) }
        }
        return (inputs, variables)
    }

    // MARK: The table

    static let table: [VJPCase] = [
        // Elementwise unary
        VJPCase("neg", "neg(@x) : f32[2,3]", params: "x : f32[2,3]"),
        VJPCase("abs", "abs(@x) : f32[2,3]", params: "x : f32[2,3]", domain: .separated),
        VJPCase("exp", "exp(@x) : f32[2,3]", params: "x : f32[2,3]"),
        VJPCase("log", "log(@x) : f32[2,3]", params: "x : f32[2,3]", domain: .positive),
        VJPCase("sqrt", "sqrt(@x) : f32[2,3]", params: "x : f32[2,3]", domain: .positive),
        VJPCase("rsqrt", "rsqrt(@x) : f32[2,3]", params: "x : f32[2,3]", domain: .positive),
        VJPCase("tanh", "tanh(@x) : f32[2,3]", params: "x : f32[2,3]"),
        VJPCase("sigmoid", "sigmoid(@x) : f32[2,3]", params: "x : f32[2,3]"),
        VJPCase("relu", "relu(@x) : f32[2,3]", params: "x : f32[2,3]", domain: .separated),
        VJPCase("stop_gradient", "stop_gradient(@x) : f32[2,3]", params: "x : f32[2,3]", expect: .zero),

        // Elementwise binary
        VJPCase("add", "add(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]"),
        VJPCase("sub", "sub(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]"),
        VJPCase("sub (param on the right only)", "sub(%c, @b) : f32[2,3]", params: "b : f32[2,3]", inputs: "c: f32[2,3]"),
        VJPCase("mul", "mul(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]"),
        VJPCase("mul (one param twice)", "mul(@a, @a) : f32[2,3]", params: "a : f32[2,3]"),
        VJPCase("div", "div(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]", domain: .positive),
        VJPCase("div (numerator only)", "div(@a, %c) : f32[2,3]", params: "a : f32[2,3]", inputs: "c: f32[2,3]", domain: .positive),
        VJPCase("div (denominator only)", "div(%c, @b) : f32[2,3]", params: "b : f32[2,3]", inputs: "c: f32[2,3]", domain: .positive),
        VJPCase("max", "max(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]", domain: .separated),
        VJPCase("min", "min(@a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]", domain: .separated),

        // Elementwise ternary: the cotangent goes to each branch where it was chosen
        VJPCase("select", "select(%p, @a, @b) : f32[2,3]", params: "a : f32[2,3]", "b : f32[2,3]", inputs: "p: bool[2,3]"),

        // Reductions
        VJPCase("reduce_sum over one axis", "reduce_sum(@x) {axes = [1]} : f32[2,4]", params: "x : f32[2,3,4]"),
        VJPCase("reduce_sum over two axes", "reduce_sum(@x) {axes = [0, 2]} : f32[3]", params: "x : f32[2,3,4]"),
        VJPCase("reduce_sum over every axis", "reduce_sum(@x) {axes = [0, 1, 2]} : f32[]", params: "x : f32[2,3,4]"),
        VJPCase("reduce_mean over one axis", "reduce_mean(@x) {axes = [1]} : f32[2,4]", params: "x : f32[2,3,4]"),
        VJPCase("reduce_mean over two axes", "reduce_mean(@x) {axes = [0, 2]} : f32[3]", params: "x : f32[2,3,4]"),
        VJPCase("reduce_max over one axis", "reduce_max(@x) {axes = [1]} : f32[2,4]", params: "x : f32[2,3,4]", domain: .separated),
        VJPCase("reduce_max over two axes", "reduce_max(@x) {axes = [0, 2]} : f32[3]", params: "x : f32[2,3,4]", domain: .separated),

        // Layout
        VJPCase("reshape", "reshape(@x) : f32[3,4]", params: "x : f32[2,3,2]"),
        VJPCase("transpose (3-cycle)", "transpose(@x) {permutation = [2, 0, 1]} : f32[4,2,3]", params: "x : f32[2,3,4]"),
        VJPCase("broadcast [3] to [2,3]", "broadcast(@x) : f32[2,3]", params: "x : f32[3]"),
        VJPCase("broadcast [2,1] to [2,3]", "broadcast(@x) : f32[2,3]", params: "x : f32[2,1]"),
        VJPCase("broadcast scalar to [2,2]", "broadcast(@x) : f32[2,2]", params: "x : f32[]"),
        VJPCase("broadcast [3,1] to [2,3,4]", "broadcast(@x) : f32[2,3,4]", params: "x : f32[3,1]"),
        VJPCase("slice", "slice(@x) {limit = [3, 5], start = [1, 2]} : f32[2,3]", params: "x : f32[4,5]"),
        VJPCase("pad", "pad(@x) {high = [2, 1], low = [1, 0]} : f32[5,4]", params: "x : f32[2,3]"),
        VJPCase("concat of three", "concat(@a, @b, @c) {axis = 1} : f32[2,6]",
                params: "a : f32[2,1]", "b : f32[2,3]", "c : f32[2,2]"),

        // Indexing (indices 0, 2, 1, 0, ...: repeated rows accumulate)
        VJPCase("gather", "gather(@t, %i) : f32[2,2,4]", params: "t : f32[3,4]", inputs: "i: i32[2,2]"),
        VJPCase("scatter_add", "scatter_add(%i, @u) : f32[3,2]", params: "u : f32[4,2]", inputs: "i: i32[4]"),

        // Collectives, in a group of one (CollectiveGradientTests checks a group of three)
        VJPCase("all_reduce sum", "all_reduce(@x) {reduction = sum} : f32[2,3]", params: "x : f32[2,3]"),
        VJPCase("all_reduce mean", "all_reduce(@x) {reduction = mean} : f32[2,3]", params: "x : f32[2,3]"),

        // Contraction
        // Non-square operands make a misplaced transpose an ill-typed graph; square ones make it a
        // well-typed graph with wrong values, which only the finite differences catch.
        VJPCase("matmul A·B", "matmul(@a, @b) {transpose_a = false, transpose_b = false} : f32[2,4]",
                params: "a : f32[2,3]", "b : f32[3,4]"),
        VJPCase("matmul Aᵀ·B", "matmul(@a, @b) {transpose_a = true, transpose_b = false} : f32[2,4]",
                params: "a : f32[3,2]", "b : f32[3,4]"),
        VJPCase("matmul A·Bᵀ", "matmul(@a, @b) {transpose_a = false, transpose_b = true} : f32[2,4]",
                params: "a : f32[2,3]", "b : f32[4,3]"),
        VJPCase("matmul Aᵀ·Bᵀ", "matmul(@a, @b) {transpose_a = true, transpose_b = true} : f32[2,4]",
                params: "a : f32[3,2]", "b : f32[4,3]"),
        VJPCase("matmul A·B square", "matmul(@a, @b) {transpose_a = false, transpose_b = false} : f32[3,3]",
                params: "a : f32[3,3]", "b : f32[3,3]"),
        VJPCase("matmul Aᵀ·B square", "matmul(@a, @b) {transpose_a = true, transpose_b = false} : f32[3,3]",
                params: "a : f32[3,3]", "b : f32[3,3]"),
        VJPCase("matmul A·Bᵀ square", "matmul(@a, @b) {transpose_a = false, transpose_b = true} : f32[3,3]",
                params: "a : f32[3,3]", "b : f32[3,3]"),
        VJPCase("matmul Aᵀ·Bᵀ square", "matmul(@a, @b) {transpose_a = true, transpose_b = true} : f32[3,3]",
                params: "a : f32[3,3]", "b : f32[3,3]"),
        VJPCase("conv2d stride 1 padding 0", "conv2d(@x, @w) {padding = [0, 0], stride = [1, 1]} : f32[1,3,2,2]",
                params: "x : f32[1,2,4,4]", "w : f32[3,2,3,3]"),
        VJPCase("conv2d stride 2 padding 1", "conv2d(@x, @w) {padding = [1, 1], stride = [2, 2]} : f32[1,2,3,3]",
                params: "x : f32[1,2,5,5]", "w : f32[2,2,3,3]"),
        // (H + 2p − K) % stride = (6 + 2 − 3) % 3 = 2 and (W − K) % stride = (7 − 2) % 2 = 1: the
        // last input rows and column are never read; height and width differ in every attribute,
        // and a rule that dropped the padding would still be well typed (⌊3/3⌋ = ⌊5/3⌋).
        VJPCase("conv2d with a remainder", "conv2d(@x, @w) {padding = [1, 0], stride = [3, 2]} : f32[2,3,2,3]",
                params: "x : f32[2,2,6,7]", "w : f32[3,2,3,2]"),
        VJPCase("conv2d_input_grad stride 1 padding 0",
                "conv2d_input_grad(@dy, @w) {padding = [0, 0], stride = [1, 1]} : f32[1,2,4,4]",
                params: "dy : f32[1,3,2,2]", "w : f32[3,2,3,3]"),
        VJPCase("conv2d_input_grad with a remainder",
                "conv2d_input_grad(@dy, @w) {padding = [1, 0], stride = [3, 2]} : f32[1,2,6,7]",
                params: "dy : f32[1,3,2,3]", "w : f32[3,2,3,2]"),
        VJPCase("conv2d_filter_grad stride 1 padding 0",
                "conv2d_filter_grad(@x, @dy) {padding = [0, 0], stride = [1, 1]} : f32[3,2,3,3]",
                params: "x : f32[1,2,4,4]", "dy : f32[1,3,2,2]"),
        VJPCase("conv2d_filter_grad with a remainder",
                "conv2d_filter_grad(@x, @dy) {padding = [1, 0], stride = [3, 2]} : f32[3,2,3,2]",
                params: "x : f32[1,2,6,7]", "dy : f32[1,3,2,3]"),

        // Windowed: max pooling on separated values, so no step of ±h moves a window's maximum;
        // 3×3 windows with stride 2 overlap, and padding 1 puts padding in the border windows.
        // The remainder case: (6 + 2 − 3) % 2 = 1 and (5 − 2) % 1 = 0 with unequal attributes,
        // so a rule that swapped height and width would be ill typed or wrong.
        VJPCase("max_pool2d 2×2 stride 2", "max_pool2d(@x) {padding = [0, 0], stride = [2, 2], window = [2, 2]} : f32[1,2,2,2]",
                params: "x : f32[1,2,4,4]", domain: .separated),
        VJPCase("max_pool2d 3×3 stride 2 padding 1", "max_pool2d(@x) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[1,2,3,3]",
                params: "x : f32[1,2,5,5]", domain: .separated),
        VJPCase("max_pool2d with a remainder", "max_pool2d(@x) {padding = [1, 0], stride = [2, 1], window = [3, 2]} : f32[2,1,3,4]",
                params: "x : f32[2,1,6,5]", domain: .separated),
        VJPCase("max_pool2d_grad", "max_pool2d_grad(@x, @dy) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[1,2,5,5]",
                params: "x : f32[1,2,5,5]", "dy : f32[1,2,3,3]", domain: .separated),
        VJPCase("max_pool2d_select", "max_pool2d_select(@x, @v) {padding = [1, 0], stride = [2, 1], window = [3, 2]} : f32[2,1,3,4]",
                params: "x : f32[2,1,6,5]", "v : f32[2,1,6,5]", domain: .separated),
        VJPCase("avg_pool2d 2×2 stride 2", "avg_pool2d(@x) {padding = [0, 0], stride = [2, 2], window = [2, 2]} : f32[1,2,2,2]",
                params: "x : f32[1,2,4,4]"),
        VJPCase("avg_pool2d 3×3 stride 2 padding 1", "avg_pool2d(@x) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[1,2,3,3]",
                params: "x : f32[1,2,5,5]"),
        VJPCase("avg_pool2d with a remainder", "avg_pool2d(@x) {padding = [1, 0], stride = [2, 1], window = [3, 2]} : f32[2,1,3,4]",
                params: "x : f32[2,1,6,5]"),
        VJPCase("avg_pool2d_grad", "avg_pool2d_grad(@dy) {padding = [1, 0], stride = [2, 1], window = [3, 2]} : f32[2,1,6,5]",
                params: "dy : f32[2,1,3,4]"),
    ]
}

@Suite struct VJPFiniteDifferenceTests {
    // Step and tolerance, |autodiff − fd| ≤ absolute + relative·|fd|.
    // Rounding: the loss is a Float64 sum rounded once to Float32, so each evaluation is off by
    // at most ulp(L)/2 ≤ 2⁻²⁴·|L| < 6·10⁻⁷ (|L| < 10 in every case); the rounded values of the
    // output elements one moved element touches add about as much again. Two evaluations,
    // divided by 2h = 0.02: ≲ 1.2·10⁻⁴, which `absolute` covers.
    // Truncation: (h²/6)·r·f‴ per element, zero for every op linear or bilinear in the moved
    // element (all but the unary ops and div). On the sampled domains |f‴/f′| ≤ 24 (div's
    // divisor: 6/b² at b = 0.5; rsqrt 15, log 8, tanh 2, exp 1), so it is at most 4h² = 4·10⁻⁴
    // of the derivative, which `relative` covers 2.5 times over.
    // Measured: the worst element of any case uses 35% of its tolerance (div), the rest ≤ 14%.
    // A wrong rule is off by about the gradient itself (≳ 0.1), hundreds of times the tolerance.
    static let step: Float = 1e-2
    static let absolute = 2e-4
    static let relative = 1e-3

    @Test(arguments: VJPCase.table)
    func autodiffMatchesCentralDifferences(_ c: VJPCase) throws {
        let graph = try Parser.parse(c.text)
        let (inputs, variables) = c.sample(graph)
        var differentiated = graph
        try PassManager([Autodiff()]).run(&differentiated)
        let outputs = try Interpreter().run(differentiated, inputs: inputs, variables: variables).outputs
        let forward = try Interpreter().run(graph, inputs: inputs, variables: variables).outputs
        #expect(outputs[0] == forward[0], "autodiff changed the loss")

        let estimates = try CentralDifferences(step: Self.step).gradients(of: graph, inputs: inputs, variables: variables)
        #expect(differentiated.gradients.map(\.output) == Array(1...graph.params.count))
        for (name, gradient) in zip(differentiated.gradients.map(\.param), outputs.dropFirst()) {
            #expect(gradient.type == variables[name]?.type, "the gradient of @\(name) has the wrong type")
            switch c.expectation {
            case .zero:
                #expect(gradient.scalars.allSatisfy { $0 == 0 }, "@\(name): \(gradient)")
            case .finiteDifferences:
                let estimate = try #require(estimates[name])
                let mismatches = zip(gradient.scalars, estimate).enumerated().filter { _, pair in
                    !(Swift.abs(Double(pair.0) - pair.1) <= Self.absolute + Self.relative * Swift.abs(pair.1))
                }
                if !mismatches.isEmpty {
                    let shown = mismatches.prefix(4).map { "[\($0.offset)] autodiff \($0.element.0), central difference \($0.element.1)" }
                    Issue.record("@\(name): \(mismatches.count) of \(estimate.count) elements differ: \(shown.joined(separator: "; "))")
                }
            }
        }
    }

    /// Every op the IR has is either differentiated by a rule and in the table, or declared to
    /// pass no cotangent.
    @Test func theTableCoversEveryOpWithARule() throws {
        let tested = Set(VJPCase.table.map(\.opName))
        let untested = Op.statementNames.filter { !tested.contains($0) && !VJPRules.stops(OpKind(rawValue: $0)!) }
        #expect(untested.isEmpty, "ops with a VJP rule but no finite-difference case: \(untested)")
        for c in VJPCase.table where c.expectation == .finiteDifferences {
            let graph = try Parser.parse(c.text)
            let node = try #require(graph.nodes.first { $0.op.name == c.opName })
            #expect(VJPRules.rule(for: node.op) != nil, "\(c.opName) is in the table but has no VJP rule")
        }
    }

    /// For each op that passes no cotangent, a loss `⟨f(w) + w, r⟩` where `f` goes through it.
    static let graphsThroughAStoppingOp: [String: String] = [
        "compare": """
            graph @g(%r: f32[2,3], %c: f32[2,3], %a: f32[2,3], %b: f32[2,3]) -> (f32[]) {
              param @w : f32[2,3] {init = zeros, role = weight}
              %0 = compare(@w, %c) {direction = gt} : bool[2,3]
              %1 = select(%0, %a, %b) : f32[2,3]
              %2 = add(%1, @w) : f32[2,3]
              %3 = mul(%2, %r) : f32[2,3]
              %4 = reduce_sum(%3) {axes = [0, 1]} : f32[]
              return %4 : f32[]
            }
            """,
        "convert": """
            graph @g(%r: f32[2,3]) -> (f32[]) {
              param @w : f32[2,3] {init = zeros, role = weight}
              %0 = convert(@w) : i32[2,3]
              %1 = convert(%0) : f32[2,3]
              %2 = add(%1, @w) : f32[2,3]
              %3 = mul(%2, %r) : f32[2,3]
              %4 = reduce_sum(%3) {axes = [0, 1]} : f32[]
              return %4 : f32[]
            }
            """,
        "random_uniform": """
            graph @g(%r: f32[2,3]) -> (f32[]) {
              param @w : f32[2,3] {init = zeros, role = weight}
              %0 = reduce_sum(@w) {axes = [0, 1]} : f32[]
              %1 = random_uniform(%0) {seed = 5} : f32[2,3]
              %2 = add(%1, @w) : f32[2,3]
              %3 = mul(%2, %r) : f32[2,3]
              %4 = reduce_sum(%3) {axes = [0, 1]} : f32[]
              return %4 : f32[]
            }
            """,
        "stop_gradient": """
            graph @g(%r: f32[2,3]) -> (f32[]) {
              param @w : f32[2,3] {init = zeros, role = weight}
              %0 = stop_gradient(@w) : f32[2,3]
              %1 = add(%0, @w) : f32[2,3]
              %2 = mul(%1, %r) : f32[2,3]
              %3 = reduce_sum(%2) {axes = [0, 1]} : f32[]
              return %3 : f32[]
            }
            """,
    ]

    /// An op that passes no cotangent cuts its path to the loss: the gradient of `⟨f(w) + w, r⟩`
    /// is exactly `r`, the contribution of the `+ w` path alone.
    @Test(arguments: ["compare", "convert", "random_uniform", "stop_gradient"])
    func aNonDifferentiableOpStopsTheGradient(_ op: String) throws {
        #expect(VJPRules.stops(try #require(OpKind(rawValue: op))))
        var graph = try Parser.parse(try #require(Self.graphsThroughAStoppingOp[op]))
        let r = HostTensor(shape: [2, 3], [0.5, -1, 1.5, -0.75, 1, -1.25])
        let inputs = ["r": r, "c": HostTensor(repeating: 0, TensorType(.f32, [2, 3])),
                      "a": HostTensor(repeating: 3, TensorType(.f32, [2, 3])), "b": HostTensor(repeating: -2, TensorType(.f32, [2, 3]))]
        let variables = ["w": HostTensor(shape: [2, 3], [1.3, -0.4, 2.7, -1.6, 0.2, -2.2])]
        try PassManager([Autodiff()]).run(&graph)
        let outputs = try Interpreter().run(graph, inputs: inputs, variables: variables).outputs
        #expect(graph.gradients.map(\.param) == ["w"])
        #expect(outputs[1] == r)
    }
}
