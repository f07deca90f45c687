// Every op compiled (forward, and through autodiff its VJP) against the reference interpreter.

import Testing
import GraftIR
import GraftPasses
import GraftInterpreter
import GraftRuntime
import GraftDSL

/// One statement per op and variant; `%a`, `%b`, `%c` are f32 inputs of the shapes declared.
struct OpCase: CustomTestStringConvertible, Sendable {
    var label: String
    var inputs: [(String, String)]
    var statement: String
    var result: String
    var positive = false
    var differentiable = true
    var testDescription: String { label }

    var text: String {
        let signature = inputs.map { "%\($0.0): \($0.1)" }.joined(separator: ", ")
        return """
        graph @op(\(signature)) -> (\(result)) {
          %0 = \(statement) : \(result)
          return %0 : \(result)
        }
        """
    }
}

let opCases: [OpCase] = {
    var cases: [OpCase] = []
    for op in ["neg", "abs", "exp", "tanh", "relu", "sigmoid", "stop_gradient"] {
        cases.append(OpCase(label: op, inputs: [("a", "f32[5,37]")], statement: "\(op)(%a)", result: "f32[5,37]"))
    }
    for op in ["log", "sqrt", "rsqrt"] {
        cases.append(OpCase(label: op, inputs: [("a", "f32[5,37]")], statement: "\(op)(%a)", result: "f32[5,37]", positive: true))
    }
    for op in ["add", "sub", "mul", "div", "max", "min"] {
        cases.append(OpCase(label: op, inputs: [("a", "f32[3,33]"), ("b", "f32[3,33]")], statement: "\(op)(%a, %b)", result: "f32[3,33]", positive: op == "div"))
    }
    for direction in ["eq", "ne", "lt", "le", "gt", "ge"] {
        cases.append(OpCase(label: "compare \(direction)", inputs: [("a", "f32[40]"), ("b", "f32[40]")],
                            statement: "compare(%a, %b) {direction = \(direction)}", result: "bool[40]", differentiable: false))
    }
    cases += [
        OpCase(label: "select", inputs: [("p", "bool[4,9]"), ("a", "f32[4,9]"), ("b", "f32[4,9]")], statement: "select(%p, %a, %b)", result: "f32[4,9]"),
        OpCase(label: "convert to i32", inputs: [("a", "f32[50]")], statement: "convert(%a)", result: "i32[50]", differentiable: false),
        OpCase(label: "convert from bool", inputs: [("p", "bool[50]")], statement: "convert(%p)", result: "f32[50]", differentiable: false),
        OpCase(label: "reduce_sum one axis", inputs: [("a", "f32[6,7,5]")], statement: "reduce_sum(%a) {axes = [1]}", result: "f32[6,5]"),
        OpCase(label: "reduce_sum several axes", inputs: [("a", "f32[6,7,5]")], statement: "reduce_sum(%a) {axes = [0, 2]}", result: "f32[7]"),
        OpCase(label: "reduce_sum all", inputs: [("a", "f32[6,7,5]")], statement: "reduce_sum(%a) {axes = [0, 1, 2]}", result: "f32[]"),
        OpCase(label: "reduce_mean BatchNorm axes", inputs: [("a", "f32[4,3,5,5]")], statement: "reduce_mean(%a) {axes = [0, 2, 3]}", result: "f32[3]"),
        OpCase(label: "reduce_max", inputs: [("a", "f32[6,7,5]")], statement: "reduce_max(%a) {axes = [0, 2]}", result: "f32[7]"),
        OpCase(label: "reshape", inputs: [("a", "f32[6,10]")], statement: "reshape(%a)", result: "f32[3,4,5]"),
        OpCase(label: "transpose", inputs: [("a", "f32[3,4,5]")], statement: "transpose(%a) {permutation = [2, 0, 1]}", result: "f32[5,3,4]"),
        OpCase(label: "broadcast vector", inputs: [("a", "f32[5]")], statement: "broadcast(%a)", result: "f32[3,4,5]"),
        OpCase(label: "broadcast channels", inputs: [("a", "f32[4,1,1]")], statement: "broadcast(%a)", result: "f32[2,4,3,3]"),
        OpCase(label: "broadcast scalar", inputs: [("a", "f32[]")], statement: "broadcast(%a)", result: "f32[7,3]"),
        OpCase(label: "slice", inputs: [("a", "f32[6,9]")], statement: "slice(%a) {limit = [5, 8], start = [1, 2]}", result: "f32[4,6]"),
        OpCase(label: "pad", inputs: [("a", "f32[3,4]")], statement: "pad(%a) {high = [2, 0], low = [1, 3]}", result: "f32[6,7]"),
        OpCase(label: "concat", inputs: [("a", "f32[2,3]"), ("b", "f32[2,5]"), ("c", "f32[2,1]")], statement: "concat(%a, %b, %c) {axis = 1}", result: "f32[2,9]"),
        OpCase(label: "gather", inputs: [("t", "f32[5,7]"), ("i", "i32[3,4]")], statement: "gather(%t, %i)", result: "f32[3,4,7]"),
        OpCase(label: "gather wide rows", inputs: [("t", "f32[4,40]"), ("i", "i32[6]")], statement: "gather(%t, %i)", result: "f32[6,40]"),
        OpCase(label: "scatter_add", inputs: [("i", "i32[2,6]"), ("u", "f32[2,6,3]")], statement: "scatter_add(%i, %u)", result: "f32[5,3]"),
        OpCase(label: "random_uniform", inputs: [("s", "f32[]")], statement: "random_uniform(%s) {seed = 11}", result: "f32[4,33]", differentiable: false),
        OpCase(label: "matmul", inputs: [("a", "f32[7,5]"), ("b", "f32[5,6]")], statement: "matmul(%a, %b) {transpose_a = false, transpose_b = false}", result: "f32[7,6]"),
        OpCase(label: "matmul transposed", inputs: [("a", "f32[5,7]"), ("b", "f32[6,5]")], statement: "matmul(%a, %b) {transpose_a = true, transpose_b = true}", result: "f32[7,6]"),
        OpCase(label: "conv2d 3x3", inputs: [("a", "f32[3,2,7,6]"), ("b", "f32[4,2,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[3,4,7,6]"),
        OpCase(label: "conv2d stride 2", inputs: [("a", "f32[3,2,7,8]"), ("b", "f32[4,2,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [2, 2]}", result: "f32[3,4,4,4]"),
        OpCase(label: "conv2d 1x1 stride 2", inputs: [("a", "f32[3,2,8,8]"), ("b", "f32[4,2,1,1]")], statement: "conv2d(%a, %b) {padding = [0, 0], stride = [2, 2]}", result: "f32[3,4,4,4]"),
        OpCase(label: "conv2d 5x3 padding 2x1 stride 2x1", inputs: [("a", "f32[3,2,9,7]"), ("b", "f32[3,2,5,3]")], statement: "conv2d(%a, %b) {padding = [2, 1], stride = [2, 1]}", result: "f32[3,3,5,7]"),
        OpCase(label: "conv2d 3x3 stride 1x2 no padding", inputs: [("a", "f32[3,2,6,9]"), ("b", "f32[4,2,3,3]")], statement: "conv2d(%a, %b) {padding = [0, 0], stride = [1, 2]}", result: "f32[3,4,4,4]"),
        OpCase(label: "conv2d batch 11", inputs: [("a", "f32[11,3,6,5]"), ("b", "f32[2,3,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[11,2,6,5]"),
        OpCase(label: "conv2d stride 3 (gathers)", inputs: [("a", "f32[3,2,10,40]"), ("b", "f32[3,2,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [3, 3]}", result: "f32[3,3,4,14]"),
        OpCase(label: "conv2d 1x1", inputs: [("a", "f32[3,2,5,5]"), ("b", "f32[4,2,1,1]")], statement: "conv2d(%a, %b) {padding = [0, 0], stride = [1, 1]}", result: "f32[3,4,5,5]"),
        // Shapes for the generated products (ConvolutionProducts): partial row tiles, partial
        // column blocks, masked vector tails, and filter gradients over 128 pixels or more.
        OpCase(label: "conv2d wide, every tile partial", inputs: [("a", "f32[2,3,13,17]"), ("b", "f32[10,3,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[2,10,13,17]"),
        OpCase(label: "conv2d 16 channels, whole tiles", inputs: [("a", "f32[2,16,16,12]"), ("b", "f32[16,16,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[2,16,16,12]"),
        // Winograd (3x3, stride 1, channels in 16s): edge tiles cut by the image on both
        // sides (F(4×4), a product of 5 images' tiles given 2), more images than the filter
        // gradient's eight groups (F(3×3), products of 8 images: 8 and 3), 48 output channels
        // (a full block of the product), F(2×2) on 2×2 images, and filter-gradient groups of
        // several products (F(4×4) on 10×10, 3 images a product, groups of 5).
        OpCase(label: "conv2d Winograd, ragged tiles", inputs: [("a", "f32[2,32,7,9]"), ("b", "f32[16,32,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[2,16,7,9]"),
        OpCase(label: "conv2d Winograd, 11 images", inputs: [("a", "f32[11,16,6,5]"), ("b", "f32[16,16,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[11,16,6,5]"),
        OpCase(label: "conv2d Winograd, 48 outputs", inputs: [("a", "f32[3,16,14,13]"), ("b", "f32[48,16,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[3,48,14,13]"),
        OpCase(label: "conv2d Winograd, 2x2 images", inputs: [("a", "f32[3,16,2,2]"), ("b", "f32[32,16,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[3,32,2,2]"),
        OpCase(label: "conv2d Winograd, 40 images", inputs: [("a", "f32[40,16,10,10]"), ("b", "f32[16,16,3,3]")], statement: "conv2d(%a, %b) {padding = [1, 1], stride = [1, 1]}", result: "f32[40,16,10,10]"),
        OpCase(label: "conv2d 1x1 wide", inputs: [("a", "f32[2,5,12,12]"), ("b", "f32[9,5,1,1]")], statement: "conv2d(%a, %b) {padding = [0, 0], stride = [1, 1]}", result: "f32[2,9,12,12]"),
    ]
    // Pooling: non-overlapping, overlapping with padding, unequal attributes with a remainder,
    // and a row of at least 32 outputs (the kernel walks rows).
    let windows = [("2x2 stride 2", "{padding = [0, 0], stride = [2, 2], window = [2, 2]}", "f32[3,4,8,8]", "f32[3,4,4,4]"),
                   ("3x3 stride 2 padding 1", "{padding = [1, 1], stride = [2, 2], window = [3, 3]}", "f32[2,3,9,10]", "f32[2,3,5,5]"),
                   ("3x2 stride 2x1 padding 1x0", "{padding = [1, 0], stride = [2, 1], window = [3, 2]}", "f32[2,2,6,5]", "f32[2,2,3,4]"),
                   ("3x3 stride 2 padding 1, long rows", "{padding = [1, 1], stride = [2, 2], window = [3, 3]}", "f32[2,2,8,66]", "f32[2,2,4,33]")]
    for (label, attributes, input, pooled) in windows {
        cases += [
            OpCase(label: "max_pool2d \(label)", inputs: [("a", input)], statement: "max_pool2d(%a) \(attributes)", result: pooled),
            OpCase(label: "max_pool2d_grad \(label)", inputs: [("a", input), ("b", pooled)], statement: "max_pool2d_grad(%a, %b) \(attributes)", result: input),
            OpCase(label: "max_pool2d_select \(label)", inputs: [("a", input), ("b", input)], statement: "max_pool2d_select(%a, %b) \(attributes)", result: pooled),
            OpCase(label: "avg_pool2d \(label)", inputs: [("a", input)], statement: "avg_pool2d(%a) \(attributes)", result: pooled),
            OpCase(label: "avg_pool2d_grad \(label)", inputs: [("a", pooled)], statement: "avg_pool2d_grad(%a) \(attributes)", result: input),
        ]
    }
    return cases
}()

@Suite struct OpTests {
    @Test(arguments: opCases)
    func forward(_ op: OpCase) throws {
        try expectCompiledMatchesInterpreter(try Parser.parse(op.text), positive: op.positive)
    }

    /// The op's VJP: the graph of Σ op(params)·r after autodiff, compiled and interpreted.
    @Test(arguments: opCases.filter(\.differentiable))
    func vjp(_ op: OpCase) throws {
        var statement = op.statement
        var declarations: [String] = []
        var signature = ["%r: \(op.result)"]
        for (name, type) in op.inputs {
            if type.hasPrefix("f32") {
                statement = statement.replacingOccurrences(of: "%\(name)", with: "@\(name)")
                declarations.append("  param @\(name) : \(type) {init = zeros, role = weight}")
            } else {
                signature.append("%\(name): \(type)")
            }
        }
        let rank = op.result.hasSuffix("[]") ? 0 : op.result.filter { $0 == "," }.count + 1
        let text = """
            graph @vjp(\(signature.joined(separator: ", "))) -> (f32[]) {
            \(declarations.joined(separator: "\n"))
              %0 = \(statement) : \(op.result)
              %1 = mul(%0, %r) : \(op.result)
              %2 = reduce_sum(%1) {axes = [\((0..<rank).map(String.init).joined(separator: ", "))]} : f32[]
              return %2 : f32[]
            }
            """
        var graph = try Parser.parse(text)
        try PassManager([Autodiff()]).run(&graph)
        try expectCompiledMatchesInterpreter(graph, positive: op.positive)
    }

    /// On an AVX-512 host the 3×3 stride-1 convolutions with channels in 16s run as Winograd
    /// F(m×m, 3×3): the forward pass and the input gradient each get a form, the filter
    /// gradient its F(3×3, m×m) form, so the op cases above check the Winograd loops.
    @Test func threeByThreeConvolutionsRunAsWinograd() throws {
        var graph = try Parser.parse("""
            graph @w(%r: f32[2,16,7,9]) -> (f32[]) {
              param @a : f32[2,32,7,9] {init = zeros, role = weight}
              param @b : f32[16,32,3,3] {init = zeros, role = weight}
              %0 = conv2d(@a, @b) {padding = [1, 1], stride = [1, 1]} : f32[2,16,7,9]
              %1 = mul(%0, %r) : f32[2,16,7,9]
              %2 = reduce_sum(%1) {axes = [0, 1, 2, 3]} : f32[]
              return %2 : f32[]
            }
            """)
        try PassManager([Autodiff()]).run(&graph)
        let executable = try Executable(graph)
        let avx512 = try Executable.sharedCache().jit.cpuFeatures.split(separator: ",").contains("+avx512f")
        let forms = Set(executable.kernels.winograd.keys.map(\.flipsFilter))
        #expect(forms == (avx512 ? [false, true] : []))
        #expect(executable.kernels.winogradFilterGradients.count == (avx512 ? 1 : 0))
        try expectCompiledMatchesInterpreter(graph)
    }

    /// The compiled generator gives the interpreter's values bit for bit, at steps that change
    /// the key (and one beyond the i32 range, which saturates alike).
    @Test(arguments: [Float(1), 2, 1000, 3e9, -7.5])
    func randomUniformIsTheInterpretersBitForBit(step: Float) throws {
        let graph = try Parser.parse("""
            graph @random(%step: f32[]) -> (f32[3,50]) {
              %0 = random_uniform(%step) {seed = 42} : f32[3,50]
              return %0 : f32[3,50]
            }
            """)
        let inputs = ["step": HostTensor(scalar: step)]
        let expected = try Interpreter().run(graph, inputs: inputs, variables: [:]).outputs[0]
        let compiled = try Executable(graph).run(inputs)[0]
        #expect(compiled == expected)
    }

    /// A concat whose operands lie one after another in memory is one loop per operand
    /// (`LoopEmitter.concatenatedRanges`): a gradient bucket of fused pieces (exact operations: negation, a square) of odd sizes,
    /// long enough to be split across the workers inside a piece, and a concat along axis 1
    /// after a leading axis of size 1. Both exactly equal to the interpreter's.
    @Test func concatenatedPiecesAreCopiedExactly() throws {
        let graph = try Parser.parse("""
            graph @bucket(%a: f32[20001], %b: f32[7,3,100], %c: f32[30011], %d: f32[5,1], %e: f32[1,3,2]) -> (f32[52112], f32[1,8,2]) {
              %0 = neg(%b) : f32[7,3,100]
              %1 = reshape(%0) : f32[2100]
              %2 = mul(%c, %c) : f32[30011]
              %3 = concat(%1, %a, %2) {axis = 0} : f32[52112]
              %4 = broadcast(%d) : f32[1,5,2]
              %5 = concat(%4, %e) {axis = 1} : f32[1,8,2]
              return %3, %5 : f32[52112], f32[1,8,2]
            }
            """)
        let (inputs, _) = randomValues(for: graph, seed: 3)
        let expected = try Interpreter().run(graph, inputs: inputs, variables: [:]).outputs
        let executable = try Executable(graph)
        executable.poisonsArena = true
        #expect(try executable.run(inputs) == expected)
    }

    /// Compiled code clamps an index outside the table to the nearest row (the interpreter
    /// rejects it): gather reads row 0 or the last row, scatter_add adds there.
    @Test func compiledIndexingClampsToTheTable() throws {
        let graph = try Parser.parse("""
            graph @clamp(%t: f32[3,2], %i: i32[3], %u: f32[3,2]) -> (f32[3,2], f32[3,2]) {
              %0 = gather(%t, %i) : f32[3,2]
              %1 = scatter_add(%i, %u) : f32[3,2]
              return %0, %1 : f32[3,2], f32[3,2]
            }
            """)
        let outputs = try Executable(graph).run([
            "t": HostTensor(shape: [3, 2], [0, 1, 10, 11, 20, 21]),
            "i": HostTensor(TensorType(.i32, [3]), [-4, 9, 1]),
            "u": HostTensor(shape: [3, 2], [1, 2, 3, 4, 5, 6]),
        ])
        #expect(outputs[0] == HostTensor(shape: [3, 2], [0, 1, 20, 21, 10, 11]))
        #expect(outputs[1] == HostTensor(shape: [3, 2], [1, 2, 5, 6, 3, 4]))
    }
}

/// Dropout traced by the DSL, compiled and interpreted: the same mask, bit for bit.
@Suite struct DropoutCompiledTests {
    @Test(arguments: [Float(1), 2, 57])
    func compiledDropoutIsTheInterpreters(step: Float) throws {
        let traced = try trace("dropout") { g in [Dropout(rate: 0.3)(g.input("x", shape: [8, 300]))] }
        let x = HostTensor(shape: [8, 300], (0..<2400).map { Float($0 % 17) - 8 })
        let inputs = ["x": x, "step": HostTensor(scalar: step)]
        let expected = try Interpreter().run(traced.graph, inputs: inputs, variables: [:]).outputs[0]
        let compiled = try Executable(traced.graph).run(inputs)[0]
        #expect(compiled == expected)
        #expect(expected.scalars.contains(0) && expected.scalars.contains { $0 != 0 })
    }
}
