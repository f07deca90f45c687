// PoolingKernelTests: the compiled pooling kernels on inputs random values never produce
// (ties, padding next to negative values, NaN), against hand-computed values; OpTests
// compares them with the interpreter on random inputs.

import Testing
import GraftIR
import GraftPasses
import GraftRuntime

@Suite struct PoolingKernelTests {
    /// `op(operands) {attributes} : result`, compiled and run.
    func compiled(_ op: String, _ operands: [(name: String, value: HostTensor)], window: [Int], stride: [Int], padding: [Int],
                  result: [Int]) throws -> HostTensor {
        let type = TensorType(.f32, result)
        let text = """
            graph @pool(\(operands.map { "%\($0.name): \($0.value.type)" }.joined(separator: ", "))) -> (\(type)) {
              %0 = \(op)(\(operands.map { "%" + $0.name }.joined(separator: ", "))) {padding = \(padding), stride = \(stride), window = \(window)} : \(type)
              return %0 : \(type)
            }
            """
        let executable = try Executable(try Parser.parse(text))
        return try #require(try executable.run(Dictionary(uniqueKeysWithValues: operands.map { ($0.name, $0.value) })).first)
    }

    @Test func tiesGoToTheFirstMaximum() throws {
        // Both 2×2 windows of [[1, 5, 5], [5, 2, 5]] tie at 5; the first 5 is element 1.
        let x = HostTensor(shape: [1, 1, 2, 3], [1, 5, 5, 5, 2, 5])
        let dy = HostTensor(shape: [1, 1, 1, 2], [10, 100])
        let dx = try compiled("max_pool2d_grad", [("x", x), ("dy", dy)], window: [2, 2], stride: [1, 1], padding: [0, 0], result: [1, 1, 2, 3])
        #expect(dx == HostTensor(shape: [1, 1, 2, 3], [0, 110, 0, 0, 0, 0]))
        let v = HostTensor(shape: [1, 1, 2, 3], [10, 20, 30, 40, 50, 60])
        let selected = try compiled("max_pool2d_select", [("x", x), ("v", v)], window: [2, 2], stride: [1, 1], padding: [0, 0], result: [1, 1, 1, 2])
        #expect(selected == HostTensor(shape: [1, 1, 1, 2], [20, 20]))
    }

    @Test func paddingIsMinusInfinityForMaxAndZeroForAverage() throws {
        // −(1...16), 3×3 windows, stride 2, padding 1: maxima −1, −2, −5, −6; sums over 9.
        let x = HostTensor(shape: [1, 1, 4, 4], (1...16).map { -Float($0) })
        let y = try compiled("max_pool2d", [("x", x)], window: [3, 3], stride: [2, 2], padding: [1, 1], result: [1, 1, 2, 2])
        #expect(y == HostTensor(shape: [1, 1, 2, 2], [-1, -2, -5, -6]))
        let mean = try compiled("avg_pool2d", [("x", x)], window: [3, 3], stride: [2, 2], padding: [1, 1], result: [1, 1, 2, 2])
        #expect(mean == HostTensor(shape: [1, 1, 2, 2], [-14 / 9, -30 / 9, -57 / 9, -11]))
    }

    @Test func nanIsTheMaximumOfItsWindow() throws {
        let x = HostTensor(shape: [1, 1, 2, 4], [1, .nan, 3, 4, 2, 0, 5, 6])
        let y = try compiled("max_pool2d", [("x", x)], window: [2, 2], stride: [2, 2], padding: [0, 0], result: [1, 1, 1, 2])
        #expect(y.scalars[0].isNaN)
        #expect(y.scalars[1] == 6)
    }

    /// Pooling of an inlined elementwise chain, pooled twice, through autodiff: the fused
    /// kernels recompute the chain at every window position.
    @Test func pooledChainThroughAutodiffMatchesTheInterpreter() throws {
        var graph = try Parser.parse("""
            graph @net(%r: f32[2,3,4,4]) -> (f32[]) {
              param @x : f32[2,3,9,9] {init = zeros, role = weight}
              %0 = relu(@x) : f32[2,3,9,9]
              %1 = mul(%0, %0) : f32[2,3,9,9]
              %2 = max_pool2d(%1) {padding = [1, 1], stride = [2, 2], window = [3, 3]} : f32[2,3,5,5]
              %3 = avg_pool2d(%2) {padding = [0, 0], stride = [1, 1], window = [2, 2]} : f32[2,3,4,4]
              %4 = mul(%3, %r) : f32[2,3,4,4]
              %5 = reduce_sum(%4) {axes = [0, 1, 2, 3]} : f32[]
              return %5 : f32[]
            }
            """)
        try PassManager([Autodiff()]).run(&graph)
        #expect(graph.nodes.contains { $0.op.kind == .maxPool2dGrad } && graph.nodes.contains { $0.op.kind == .avgPool2dGrad })
        try expectCompiledMatchesInterpreter(graph)
    }

    /// Random integers 0...3 tie in almost every 3×3 window: the compiled kernels, with the
    /// conversion inlined, must pick the same first maxima as the interpreter.
    @Test func tiedWindowsOfAnInlinedChainMatchTheInterpreter() throws {
        let attributes = "{padding = [1, 1], stride = [2, 2], window = [3, 3]}"
        let graph = try Parser.parse("""
            graph @ties(%a: i32[2,3,9,10], %dy: f32[2,3,5,5], %v: f32[2,3,9,10]) -> (f32[2,3,5,5], f32[2,3,9,10], f32[2,3,5,5]) {
              %0 = convert(%a) : f32[2,3,9,10]
              %1 = neg(%0) : f32[2,3,9,10]
              %2 = max_pool2d(%1) \(attributes) : f32[2,3,5,5]
              %3 = max_pool2d_grad(%1, %dy) \(attributes) : f32[2,3,9,10]
              %4 = max_pool2d_select(%1, %v) \(attributes) : f32[2,3,5,5]
              return %2, %3, %4 : f32[2,3,5,5], f32[2,3,9,10], f32[2,3,5,5]
            }
            """)
        let plan = FusionPlan(graph)
        #expect(!plan.materialized[graph.nodes.firstIndex { $0.op.kind == .neg }!], "the chain is inlined into the pooling kernels")
        try expectCompiledMatchesInterpreter(graph)
    }
}
