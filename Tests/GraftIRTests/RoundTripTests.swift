// RoundTripTests: the IR text form reads back to the same graph and prints back to the same text.

import Testing
import GraftIR

/// Canonical text using every op, declarations, assigns, several outputs, locations and float
/// attributes that need care (1e-05, -0.5, ±inf, the largest finite f32).
let everyOpText = lines(
    "graph @every_op(%x: f32[2,3], %y: f32[2,3], %n: i32[2,3], %img: f32[2,1,5,5]) -> (f32[2,3], bool[2,3], f32[]) {",
    "  param @w : f32[3,4] {init = zeros, role = weight}  loc(\"model.swift\":3)",
    "  param @conv.weight : f32[4,1,3,3] {init = zeros, role = weight}",
    "  state @momentum : f32[3,4] {init = zeros, role = statistic}  loc(\"model.swift\":5:7)",
    "  state @count : f32[] {init = zeros, role = statistic}",
    "  %0 = neg(%x) : f32[2,3]",
    "  %1 = abs(%0) : f32[2,3]",
    "  %2 = exp(%1) : f32[2,3]",
    "  %3 = log(%2) : f32[2,3]",
    "  %4 = sqrt(%2) : f32[2,3]",
    "  %5 = rsqrt(%2) : f32[2,3]",
    "  %6 = tanh(%x) : f32[2,3]",
    "  %7 = relu(%y) : f32[2,3]",
    "  %8 = convert(%n) : f32[2,3]",
    "  %9 = stop_gradient(%8) : f32[2,3]",
    "  %10 = add(%x, %y) : f32[2,3]  loc(\"model.swift\":12)",
    "  %11 = sub(%10, %y) : f32[2,3]",
    "  %12 = mul(%11, %3) : f32[2,3]",
    "  %13 = div(%12, %4) : f32[2,3]",
    "  %14 = max(%13, %5) : f32[2,3]",
    "  %15 = min(%14, %6) : f32[2,3]",
    "  %16 = compare(%15, %7) {direction = gt} : bool[2,3]",
    "  %17 = select(%16, %15, %9) : f32[2,3]",
    "  %18 = reduce_sum(%17) {axes = [0, 1]} : f32[]",
    "  %19 = reduce_mean(%17) {axes = [1]} : f32[2]",
    "  %20 = reduce_max(%17) {axes = [0]} : f32[3]",
    "  %21 = reshape(%17) : f32[3,2]",
    "  %22 = transpose(%21) {permutation = [1, 0]} : f32[2,3]",
    "  %23 = broadcast(%19) : f32[3,2]",
    "  %24 = slice(%22) {limit = [2, 3], start = [0, 1]} : f32[2,2]",
    "  %25 = concat(%22, %24, %22) {axis = 1} : f32[2,8]",
    "  %26 = pad(%22) {high = [1, 0], low = [0, 0]} : f32[3,3]",
    "  %27 = matmul(%22, @w) {transpose_a = false, transpose_b = false} : f32[2,4]",
    "  %28 = matmul(%26, @w) {transpose_a = true, transpose_b = false} : f32[3,4]",
    "  %29 = matmul(%27, @w) {transpose_a = false, transpose_b = true} : f32[2,3]",
    "  %30 = conv2d(%img, @conv.weight) {padding = [1, 1], stride = [2, 2]} : f32[2,4,3,3]",
    "  %31 = conv2d_input_grad(%30, @conv.weight) {padding = [1, 1], stride = [2, 2]} : f32[2,1,5,5]",
    "  %32 = conv2d_filter_grad(%img, %30) {padding = [1, 1], stride = [2, 2]} : f32[4,1,3,3]",
    "  %33 = constant() {value = 1e-05} : f32[]",
    "  %34 = constant() {value = -0.5} : f32[3,4]",
    "  %35 = constant() {value = inf} : f32[]",
    "  %36 = constant() {value = -inf} : f32[]",
    "  %37 = constant() {value = 3.4028235e+38} : f32[]",
    "  %38 = iota() {axis = 1} : i32[2,3]",
    "  %39 = compare(%38, %n) {direction = le} : bool[2,3]",
    "  %40 = mul(@momentum, %34) : f32[3,4]",
    "  %41 = add(%40, %28) : f32[3,4]",
    "  %42 = add(@count, %33) : f32[]",
    "  %43 = sub(@w, %41) : f32[3,4]",
    "  %44 = sigmoid(%x) : f32[2,3]",
    "  %45 = gather(@w, %n) : f32[2,3,4]",
    "  %46 = scatter_add(%n, %45) : f32[3,4]",
    "  %47 = random_uniform(@count) {seed = 7} : f32[2,3]",
    "  %48 = max_pool2d(%img) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[2,1,3,3]",
    "  %49 = max_pool2d_grad(%img, %48) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[2,1,5,5]",
    "  %50 = max_pool2d_select(%img, %49) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[2,1,3,3]",
    "  %51 = avg_pool2d(%img) {padding = [0, 1], stride = [2, 1], window = [2, 3]} : f32[2,1,2,5]",
    "  %52 = avg_pool2d_grad(%51) {padding = [0, 1], stride = [2, 1], window = [2, 3]} : f32[2,1,5,5]  loc(\"model.swift\":28)",
    "  %53 = all_reduce(%52) {reduction = mean} : f32[2,1,5,5]",
    "  assign @w, %43  loc(\"model.swift\":30:5)",
    "  assign @momentum, %41",
    "  assign @count, %42  loc(\"model.swift\":31)",
    "  return %17, %39, %18 : f32[2,3], bool[2,3], f32[]",
    "}"
)

/// The same text as printed without locations.
func withoutLocations(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        guard let range = line.firstRange(of: "  loc(") else { return String(line) }
        return String(line[..<range.lowerBound])
    }.joined(separator: "\n")
}

@Suite("Round trip")
struct RoundTripTests {
    @Test("every op: parse then print gives the text back")
    func everyOpPrintsBack() throws {
        let graph = try Parser.parse(everyOpText, file: "every.gir")
        #expect(Printer(printLocations: true).print(graph) == everyOpText)
        #expect(Printer().print(graph) == withoutLocations(everyOpText))
        #expect(!withoutLocations(everyOpText).contains("loc("))
    }

    @Test("every op: the text covers the whole op set")
    func everyOpCoverage() throws {
        let graph = try Parser.parse(everyOpText, file: "every.gir")
        let used = Set(graph.nodes.map(\.op.name))
        #expect(used == Set(Op.statementNames + ["input", "param", "state"]))
        var directions: Set<Comparison> = []
        for case .compare(let direction) in graph.nodes.map(\.op) { directions.insert(direction) }
        #expect(directions == [.gt, .le])
        var transposes: Set<[Bool]> = []
        for case .matmul(let a, let b) in graph.nodes.map(\.op) { transposes.insert([a, b]) }
        #expect(transposes == [[false, false], [true, false], [false, true]])
    }

    @Test("every op: the parsed graph has the meaning written")
    func everyOpMeaning() throws {
        let graph = try Parser.parse(everyOpText, file: "every.gir")
        #expect(graph.name == "every_op")
        #expect(graph.nodes.count == 4 + 4 + 54)
        #expect(graph.inputs.map { graph[$0].op } == [.input("x"), .input("y"), .input("n"), .input("img")])
        #expect(graph.params.map { graph[$0].op } == [.param("w"), .param("conv.weight")])
        #expect(graph.states.map { graph[$0].op } == [.state("momentum"), .state("count")])
        #expect(graph.outputTypes == [f32(2, 3), bool(2, 3), f32()])
        #expect(graph.assigns.map(\.name) == ["w", "momentum", "count"])

        // Computed value %N is the N-th node after the 8 leaves.
        func node(_ n: Int) -> Node { graph.nodes[8 + n] }
        #expect(node(10).op == .add && node(10).operands == [0, 1])
        #expect(node(10).location == IRLocation(file: "model.swift", line: 12))
        #expect(node(0).location == nil)
        #expect(graph[graph.declaration(named: "momentum")!].location == IRLocation(file: "model.swift", line: 5, column: 7))
        #expect(graph.assigns[0].location == IRLocation(file: "model.swift", line: 30, column: 5))
        #expect(graph.assigns[1].location == nil)
        #expect(node(24).op == .slice(start: [0, 1], limit: [2, 3]))
        #expect(node(26).op == .pad(low: [0, 0], high: [1, 0]))
        #expect(node(30).op == .conv2d(stride: [2, 2], padding: [1, 1]))
        #expect(node(51).op == .avgPool2d(window: [2, 3], stride: [2, 1], padding: [0, 1]))
        #expect(node(52).location == IRLocation(file: "model.swift", line: 28))
        #expect(node(25).operands == [8 + 22, 8 + 24, 8 + 22])
        #expect(node(45).op == .gather && node(45).operands == [4, 2])
        #expect(node(46).op == .scatterAdd && node(46).operands == [2, 8 + 45])
        #expect(node(47).op == .randomUniform(seed: 7) && node(47).operands == [7])
        let constants: [Float] = [1e-05, -0.5, .infinity, -.infinity, .greatestFiniteMagnitude]
        for (offset, value) in constants.enumerated() {
            guard case .constant(let parsed) = node(33 + offset).op else {
                Issue.record("%\(33 + offset) is not a constant")
                continue
            }
            #expect(parsed.bitPattern == value.bitPattern, "%\(33 + offset): \(parsed) != \(value)")
        }
        try Verifier.verify(graph)
    }

    @Test("a graph with no inputs and no results")
    func zeroOutputs() throws {
        let text = lines(
            "graph @init() -> () {",
            "  state @step : f32[] {init = zeros, role = statistic}",
            "  %0 = constant() {value = 0.0} : f32[]",
            "  assign @step, %0",
            "  return",
            "}"
        )
        let graph = try Parser.parse(text)
        #expect(graph.outputs.isEmpty && graph.inputs.isEmpty)
        #expect(graph.assigns == [Assign(name: "step", value: 1)])
        #expect(Printer().print(graph) == text)
    }

    @Test("a graph that returns its input and a param directly")
    func returnsLeaves() throws {
        let text = lines(
            "graph @id(%x: f32[]) -> (f32[], f32[3]) {",
            "  param @b : f32[3] {init = zeros, role = weight}",
            "  return %x, @b : f32[], f32[3]",
            "}"
        )
        let graph = try Parser.parse(text)
        #expect(graph.outputs == [0, 1])
        #expect(Printer().print(graph) == text)
    }

    @Test("non-canonical text prints in canonical form")
    func canonicalizes() throws {
        let text = """
            // leading comment
            graph @g( %x : f32[2,3] )->( f32[3] ,f32[2,3]){
              %sum = reduce_sum(%x) {axes=[0]} : f32[3]   // named value
              param @w : f32[2,3] {init = zeros, role = weight}
              %h = slice(@w) {start = [0, 0], limit = [2, 3]} : f32[2,3]
              %k = constant() {value = 2} : f32[]
              assign @w, %h
              return %sum, %h : f32[3], f32[2,3]
            }
            """
        let expected = lines(
            "graph @g(%x: f32[2,3]) -> (f32[3], f32[2,3]) {",
            "  param @w : f32[2,3] {init = zeros, role = weight}",
            "  %0 = reduce_sum(%x) {axes = [0]} : f32[3]",
            "  %1 = slice(@w) {limit = [2, 3], start = [0, 0]} : f32[2,3]",
            "  %2 = constant() {value = 2.0} : f32[]",
            "  assign @w, %1",
            "  return %0, %1 : f32[3], f32[2,3]",
            "}"
        )
        let printed = Printer().print(try Parser.parse(text))
        #expect(printed == expected)
        #expect(Printer().print(try Parser.parse(printed)) == expected)
    }

    @Test("a graph built in Swift prints as expected and parses back equal", arguments: [false, true])
    func swiftGraph(printLocations: Bool) throws {
        let graph = mlpStep(locations: printLocations)
        let text = Printer(printLocations: printLocations).print(graph)
        let loc = { (line: Int) in printLocations ? "  loc(\"MLP.swift\":\(line))" : "" }
        let expected = lines(
            "graph @mlp_step(%x: f32[4,3], %lr: f32[]) -> (f32[]) {",
            "  param @fc.weight : f32[3,2] {init = normal, role = weight, std = 0.47140452}" + loc(2),
            "  %0 = matmul(%x, @fc.weight) {transpose_a = false, transpose_b = false} : f32[4,2]" + loc(10),
            "  %1 = relu(%0) : f32[4,2]" + loc(11),
            "  %2 = reduce_mean(%1) {axes = [0, 1]} : f32[]" + loc(12),
            "  %3 = broadcast(%lr) : f32[3,2]" + loc(13),
            "  %4 = mul(%3, @fc.weight) : f32[3,2]" + loc(14),
            "  %5 = sub(@fc.weight, %4) : f32[3,2]" + loc(15),
            "  assign @fc.weight, %5" + loc(16),
            "  return %2 : f32[]",
            "}"
        )
        #expect(text == expected)
        let parsed = try Parser.parse(text)
        #expect(Printer(printLocations: printLocations).print(parsed) == text)
        // Built in canonical order, so the parsed graph is the same value (locations included
        // when printed, absent otherwise).
        #expect(parsed == mlpStep(locations: printLocations))
    }

    @Test("a graph built in Swift out of canonical order prints back the same")
    func swiftGraphOutOfOrder() throws {
        var graph = Graph(name: "mixed")
        let c = graph.append(Node(.constant(-0.5), type: f32(2)))
        let s = graph.append(Node(.state("ema"), type: f32(2), location: IRLocation(file: "EMA.swift", line: 4, column: 9)))
        let sum = graph.append(Node(.add, [c, s], type: f32(2)))
        let x = graph.append(Node(.input("x"), type: f32(2)))
        let p = graph.append(Node(.param("p"), type: f32(2)))
        let out = graph.append(Node(.mul, [x, p], type: f32(2), location: IRLocation(file: "EMA.swift", line: 5)))
        graph.outputs = [out, sum]
        graph.assigns = [Assign(name: "ema", value: sum, location: IRLocation(file: "EMA.swift", line: 6))]
        graph.variables = ["ema": VariableInfo(.zeros, role: .statistic), "p": VariableInfo(.uniform(bound: 0.25), role: .bias)]
        try Verifier.verify(graph)
        for printer in [Printer(), Printer(printLocations: true)] {
            let text = printer.print(graph)
            let reparsed = try Parser.parse(text)
            try Verifier.verify(reparsed)
            #expect(printer.print(reparsed) == text)
        }
        #expect(Printer(printLocations: true).print(graph) == lines(
            "graph @mixed(%x: f32[2]) -> (f32[2], f32[2]) {",
            "  param @p : f32[2] {bound = 0.25, init = uniform, role = bias}",
            "  state @ema : f32[2] {init = zeros, role = statistic}  loc(\"EMA.swift\":4:9)",
            "  %0 = constant() {value = -0.5} : f32[2]",
            "  %1 = add(%0, @ema) : f32[2]",
            "  %2 = mul(%x, @p) : f32[2]  loc(\"EMA.swift\":5)",
            "  assign @ema, %1  loc(\"EMA.swift\":6)",
            "  return %2, %1 : f32[2], f32[2]",
            "}"
        ))
    }

    /// Every initializer (floats that need all their digits, -0 and 1e-05 included), every
    /// role, a target and gradient outputs, built in Swift: printed, parsed, printed again.
    @Test("declarations print every initializer, role, target and gradient, and parse back equal")
    func declarationAttributes() throws {
        var graph = Graph(name: "declared")
        let x = graph.append(Node(.input("x"), type: f32(3)))
        let infos: [(Op, VariableInfo)] = [
            (.param("w"), VariableInfo(.normal(std: 0.11785113), role: .weight, gradient: 2)),
            (.param("b"), VariableInfo(.uniform(bound: 1e-05), role: .bias, gradient: 1)),
            (.param("scale"), VariableInfo(.ones, role: .normalization)),
            (.state("mean"), VariableInfo(.zeros, role: .statistic)),
            (.state("odd"), VariableInfo(.constant(-0.0), role: .statistic)),
            (.state("big"), VariableInfo(.constant(3.4028235e+38), role: .optimizerState)),
            (.state("target.w"), VariableInfo(.normal(std: 0.11785113), role: .weight, targetOf: "w")),
        ]
        var ids: [String: ValueID] = [:]
        for (op, info) in infos {
            ids[op.declaredName!] = graph.append(Node(op, type: f32(3)))
            graph.variables[op.declaredName!] = info
        }
        let loss = graph.append(Node(.reduceSum(axes: [0]), [graph.append(Node(.mul, [x, ids["w"]!], type: f32(3)))], type: f32()))
        graph.outputs = [loss, x, x]
        try Verifier.verify(graph)
        let expected = lines(
            "graph @declared(%x: f32[3]) -> (f32[], f32[3], f32[3]) {",
            "  param @w : f32[3] {gradient = 2, init = normal, role = weight, std = 0.11785113}",
            "  param @b : f32[3] {bound = 1e-05, gradient = 1, init = uniform, role = bias}",
            "  param @scale : f32[3] {init = ones, role = normalization}",
            "  state @mean : f32[3] {init = zeros, role = statistic}",
            "  state @odd : f32[3] {init = constant, role = statistic, value = -0.0}",
            "  state @big : f32[3] {init = constant, role = optimizer_state, value = 3.4028235e+38}",
            "  state @target.w : f32[3] {init = normal, role = weight, std = 0.11785113, target_of = w}",
            "  %0 = mul(%x, @w) : f32[3]",
            "  %1 = reduce_sum(%0) {axes = [0]} : f32[]",
            "  return %1, %x, %x : f32[], f32[3], f32[3]",
            "}"
        )
        let text = Printer().print(graph)
        #expect(text == expected)
        let parsed = try Parser.parse(text)
        #expect(parsed == graph)
        #expect(Printer().print(parsed) == text)
        #expect(parsed.gradients.map(\.param) == ["b", "w"])
        #expect(parsed.targetPairs.map(\.target) == ["target.w"] && parsed.targetPairs.map(\.online) == ["w"])
        #expect(parsed.initialValues(seed: 3)["odd"]?.scalars.allSatisfy { $0.bitPattern == Float(-0.0).bitPattern } == true)
    }

    @Test("each op alone round-trips through text", arguments: opExamples)
    func singleOp(_ example: OpExample) throws {
        let graph = example.graph
        try Verifier.verify(graph)
        let text = Printer(printLocations: true).print(graph)
        let parsed = try Parser.parse(text)
        #expect(parsed == graph)
        #expect(Printer(printLocations: true).print(parsed) == text)
        #expect(text.contains(" = \(example.op.name)("))
    }

    @Test("the op table covers every statement op")
    func opTableCoverage() {
        #expect(Set(opExamples.map(\.op.name)) == Set(Op.statementNames))
    }

    @Test("float constants print to the shortest text that reads back bit for bit",
          arguments: [
              (Float(1e-05), "1e-05"), (-0.5, "-0.5"), (.infinity, "inf"), (-.infinity, "-inf"),
              (0.1, "0.1"), (1, "1.0"), (-0.0, "-0.0"), (.greatestFiniteMagnitude, "3.4028235e+38"),
              (.leastNonzeroMagnitude, "1e-45"), (16_777_216, "16777216.0"), (1.0 / 3.0, "0.33333334"),
          ] as [(Float, String)])
    func floatAttribute(value: Float, spelling: String) throws {
        var graph = Graph(name: "c")
        graph.outputs = [graph.append(Node(.constant(value), type: f32()))]
        let text = Printer().print(graph)
        #expect(text.contains("{value = \(spelling)}"), "\(text)")
        let parsed = try Parser.parse(text)
        guard case .constant(let read) = parsed.nodes[0].op else {
            Issue.record("not a constant: \(parsed.nodes[0].op)")
            return
        }
        #expect(read.bitPattern == value.bitPattern)
        #expect(Printer().print(parsed) == text)
    }

    @Test("a NaN constant reads back as NaN")
    func nanConstant() throws {
        var graph = Graph(name: "c")
        graph.outputs = [graph.append(Node(.constant(.nan), type: f32()))]
        let text = Printer().print(graph)
        let parsed = try Parser.parse(text)
        guard case .constant(let read) = parsed.nodes[0].op else {
            Issue.record("not a constant")
            return
        }
        #expect(read.isNaN)
        #expect(Printer().print(parsed) == text)
    }

    @Test("constant values may be written as integers or with an exponent")
    func constantSpellings() throws {
        for (spelling, value) in [("3", Float(3)), ("-2", -2), ("2.5e3", 2500), ("1E-2", 0.01), ("+4", 4)] as [(String, Float)] {
            let graph = try Parser.parse("graph @c() -> (f32[]) { %0 = constant() {value = \(spelling)} : f32[] return %0 : f32[] }")
            #expect(graph.nodes[0].op == .constant(value), "value = \(spelling)")
        }
    }
}

/// A small training step built directly in Swift, in canonical node order.
func mlpStep(locations: Bool) -> Graph {
    func loc(_ line: Int) -> IRLocation? { locations ? IRLocation(file: "MLP.swift", line: line) : nil }
    var graph = Graph(name: "mlp_step")
    let x = graph.append(Node(.input("x"), type: f32(4, 3)))
    let lr = graph.append(Node(.input("lr"), type: f32()))
    let w = graph.append(Node(.param("fc.weight"), type: f32(3, 2), location: loc(2)))
    let h = graph.append(Node(.matmul(transposeA: false, transposeB: false), [x, w], type: f32(4, 2), location: loc(10)))
    let r = graph.append(Node(.relu, [h], type: f32(4, 2), location: loc(11)))
    let loss = graph.append(Node(.reduceMean(axes: [0, 1]), [r], type: f32(), location: loc(12)))
    let rate = graph.append(Node(.broadcast, [lr], type: f32(3, 2), location: loc(13)))
    let step = graph.append(Node(.mul, [rate, w], type: f32(3, 2), location: loc(14)))
    let updated = graph.append(Node(.sub, [w, step], type: f32(3, 2), location: loc(15)))
    graph.outputs = [loss]
    graph.assigns = [Assign(name: "fc.weight", value: updated, location: loc(16))]
    graph.variables["fc.weight"] = VariableInfo(.normal(std: 0.47140452), role: .weight)
    return graph
}
