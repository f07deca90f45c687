// Hand-computed gradients of small graphs, and the errors autodiff reports.

import Testing
import GraftIR
import GraftPasses
import GraftInterpreter

@Suite struct AutodiffTests {
    func gradients(_ text: String, variables: [String: HostTensor], inputs: [String: HostTensor] = [:]) throws -> [String: [Float]] {
        var graph = try Parser.parse(text)
        try PassManager([Autodiff()]).run(&graph)
        let outputs = try Interpreter().run(graph, inputs: inputs, variables: variables).outputs
        return Dictionary(uniqueKeysWithValues: graph.gradients.map { ($0.param, outputs[$0.output].scalars) })
    }

    @Test func gradientOfAWeightedSumOfSquares() throws {
        // L = Σ w·w·x  →  dL/dw = 2·w·x
        let grads = try gradients("""
            graph @g(%x: f32[3]) -> (f32[]) {
              param @w : f32[3] {init = zeros, role = weight}
              %0 = mul(@w, @w) : f32[3]
              %1 = mul(%0, %x) : f32[3]
              %2 = reduce_sum(%1) {axes = [0]} : f32[]
              return %2 : f32[]
            }
            """, variables: ["w": HostTensor(shape: [3], [1, -2, 3])], inputs: ["x": HostTensor(shape: [3], [4, 5, 6])])
        #expect(grads["w"] == [8, -20, 36])
    }

    @Test func stopGradientPassesNoCotangent() throws {
        // L = Σ w · stop_gradient(w)  →  dL/dw = w (not 2w)
        let grads = try gradients("""
            graph @g() -> (f32[]) {
              param @w : f32[2] {init = zeros, role = weight}
              %0 = stop_gradient(@w) : f32[2]
              %1 = mul(@w, %0) : f32[2]
              %2 = reduce_sum(%1) {axes = [0]} : f32[]
              return %2 : f32[]
            }
            """, variables: ["w": HostTensor(shape: [2], [3, -1])])
        #expect(grads["w"] == [3, -1])
    }

    @Test func broadcastCotangentsAreSummedBack() throws {
        // L = Σᵢⱼ (x_ij + b_j)  →  dL/db_j = number of rows = 2
        let grads = try gradients("""
            graph @g(%x: f32[2,3]) -> (f32[]) {
              param @b : f32[3] {init = zeros, role = weight}
              %0 = broadcast(@b) : f32[2,3]
              %1 = add(%x, %0) : f32[2,3]
              %2 = reduce_sum(%1) {axes = [0, 1]} : f32[]
              return %2 : f32[]
            }
            """, variables: ["b": HostTensor(shape: [3], [0, 0, 0])], inputs: ["x": HostTensor(repeating: 1, TensorType(.f32, [2, 3]))])
        #expect(grads["b"] == [2, 2, 2])
    }

    @Test func aParamOffTheLossPathGetsAZeroGradient() throws {
        let grads = try gradients("""
            graph @g() -> (f32[]) {
              param @used : f32[] {init = zeros, role = weight}
              param @unused : f32[2] {init = zeros, role = weight}
              %0 = mul(@used, @used) : f32[]
              return %0 : f32[]
            }
            """, variables: ["used": HostTensor(scalar: 3), "unused": HostTensor(shape: [2], [1, 1])])
        #expect(grads["used"] == [6])
        #expect(grads["unused"] == [0, 0])
    }

    @Test func theLossMustBeAScalar() throws {
        var graph = try Parser.parse("""
            graph @g() -> (f32[2]) {
              param @w : f32[2] {init = zeros, role = weight}
              return @w : f32[2]
            }
            """)
        #expect(throws: Diagnostic.self) { try Autodiff().run(&graph) }
    }
}
