// CollectiveTests: `all_reduce` in the interpreter: the identity in a group of one, and the
// sum or mean of every replica's operand in a simulated group (`runReplicas`), by hand.

import GraftIR
import GraftInterpreter
import Testing

/// Each replica scales its own `%x` by the shared `@w`; the products are all-reduced.
private let scaled = """
    graph @scaled(%x: f32[3]) -> (f32[3], f32[3], f32[3]) {
      param @w : f32[3] {init = ones, role = weight}
      %0 = mul(@w, %x) : f32[3]
      %1 = all_reduce(%0) {reduction = sum} : f32[3]
      %2 = all_reduce(%0) {reduction = mean} : f32[3]
      return %0, %1, %2 : f32[3], f32[3], f32[3]
    }
    """

@Suite struct CollectiveTests {
    @Test func aGroupOfOneIsTheIdentity() throws {
        let graph = try Parser.parse(scaled)
        let result = try Interpreter().run(graph, inputs: ["x": tensor([3], [1, -2, 4])], variables: ["w": tensor([3], [2, 2, 0.5])])
        #expect(result.outputs == [tensor([3], [2, -4, 2]), tensor([3], [2, -4, 2]), tensor([3], [2, -4, 2])])
    }

    @Test func replicasSumAndAverageTheirOperands() throws {
        let graph = try Parser.parse(scaled)
        let w = tensor([3], [1, 2, 3])
        let xs: [[Float]] = [[1, 0, 0], [0, 1, 0], [4, 4, 4]]
        let results = try Interpreter().runReplicas(graph, inputs: xs.map { ["x": tensor([3], $0)] },
                                                    variables: Array(repeating: ["w": w], count: 3))
        #expect(results.count == 3)
        for (replica, result) in results.enumerated() {
            #expect(result.outputs[0] == tensor([3], zip([1, 2, 3], xs[replica]).map { $0 * $1 }))   // its own product
            #expect(result.outputs[1] == tensor([3], [5, 10, 12]))                                  // (1+0+4)·1, (0+1+4)·2, (0+0+4)·3
            #expect(result.outputs[2] == tensor([3], [5 / 3, 10 / 3, 4]))
        }
    }

    @Test func replicasMustBeGivenInPairs() throws {
        let graph = try Parser.parse(scaled)
        #expect(throws: Diagnostic("runReplicas: 2 replicas' inputs and 1 replicas' variables were given; give one of each per replica (at least one)")) {
            try Interpreter().runReplicas(graph, inputs: [["x": tensor([3], [0, 0, 0])], ["x": tensor([3], [0, 0, 0])]],
                                          variables: [["w": tensor([3], [1, 1, 1])]])
        }
    }
}
