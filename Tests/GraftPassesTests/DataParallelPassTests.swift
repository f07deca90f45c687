// DataParallelPassTests: what CrossReplicaStatistics and GradientAllReduce write, and what
// they refuse, on small hand-written graphs.

import GraftIR
import GraftPasses
import GraftInterpreter
import Testing

private func parse(_ body: String, inputs: String = "%x: f32[4,3]") throws -> Graph {
    try Parser.parse("""
        graph @g(\(inputs)) -> (f32[]) {
          param @w : f32[3] {init = ones, role = weight}
        \(body)
        }
        """, file: "g.gir")
}

@Suite struct DataParallelPassTests {
    @Test func batchMeansAndSumsAreAllReducedAndTheBesselFactorIsTheGlobalOne() throws {
        var graph = try parse("""
              %0 = broadcast(@w) : f32[4,3]
              %1 = mul(%x, %0) : f32[4,3]
              %2 = reduce_mean(%1) {axes = [0]} : f32[3]
              %3 = constant() {value = 1.3333334} : f32[]
              %4 = broadcast(%3) : f32[3]
              %5 = mul(%2, %4) : f32[3]
              %6 = reduce_sum(%5) {axes = [0]} : f32[]
              %7 = reduce_mean(@w) {axes = [0]} : f32[]
              %8 = add(%6, %7) : f32[]
              return %8 : f32[]
            """)
        try CrossReplicaStatistics(replicas: 2).run(&graph)
        let text = Printer().print(graph)
        #expect(text.contains("all_reduce(%2) {reduction = mean} : f32[3]"), "\(text)")
        #expect(text.contains("constant() {value = 1.142857"), "\(text)")            // 8/7, not 4/3
        #expect(!text.contains("1.3333334"), "\(text)")
        // %6 sums over axis 0 of a vector that no longer has the batch axis: it is the
        // feature axis now, but it is computed from the data, so it is all-reduced too; the
        // mean of @w alone is not.
        #expect(text.components(separatedBy: "all_reduce(").count - 1 == 2, "\(text)")
        #expect(text.contains("reduction = sum"), "\(text)")
    }

    @Test func whatMixesExamplesOtherwiseIsRefusedWhereItIs() throws {
        var maximum = try parse("""
              %0 = reduce_max(%x) {axes = [0]} : f32[3]
              %1 = reduce_sum(%0) {axes = [0]} : f32[]
              return %1 : f32[]
            """)
        let error = try #require(throws: Diagnostic.self) { try CrossReplicaStatistics(replicas: 2).run(&maximum) }
        #expect(error.message.hasPrefix("cross-replica-statistics: reduce_max over the batch axis"), "\(error)")
        var similarity = try parse("""
              %0 = matmul(%x, %x) {transpose_a = false, transpose_b = true} : f32[4,4]
              %1 = reduce_sum(%0) {axes = [0, 1]} : f32[]
              return %1 : f32[]
            """)
        #expect(throws: Diagnostic.self) { try CrossReplicaStatistics(replicas: 2).run(&similarity) }
        var uneven = try parse("""
              %0 = reduce_sum(%x) {axes = [0, 1]} : f32[]
              return %0 : f32[]
            """, inputs: "%x: f32[4,3], %y: f32[5,3]")
        let shards = try #require(throws: Diagnostic.self) { try CrossReplicaStatistics(replicas: 2).run(&uneven) }
        #expect(shards.message.contains("%y is f32[5,3] where an earlier input has 4 rows"), "\(shards)")
    }

    @Test func gradientsTravelInBuckets() throws {
        func step() throws -> Graph {
            var graph = try Parser.parse("""
                graph @g(%x: f32[4,3]) -> (f32[]) {
                  param @w : f32[3] {init = ones, role = weight}
                  param @v : f32[4,3] {init = ones, role = weight}
                  %0 = broadcast(@w) : f32[4,3]
                  %1 = mul(%x, %0) : f32[4,3]
                  %2 = mul(%1, @v) : f32[4,3]
                  %3 = reduce_sum(%2) {axes = [0, 1]} : f32[]
                  return %3 : f32[]
                }
                """)
            try Autodiff().run(&graph)
            return graph
        }
        // Both gradients (3 + 12 values) in one all-reduce, sliced back to their shapes.
        var bucketed = try step()
        try GradientAllReduce().run(&bucketed)
        #expect(bucketed.nodes.filter { $0.op.kind == .allReduce }.map(\.type) == [TensorType(.f32, [15])])
        // With buckets of 12 values, each travels alone.
        var separate = try step()
        try GradientAllReduce(bucketFloats: 12).run(&separate)
        #expect(separate.nodes.filter { $0.op.kind == .allReduce }.count == 2)
        // Either way, the gradients of a group of replicas are their mean.
        let inputs = [["x": HostTensor(shape: [4, 3], (0..<12).map(Float.init))], ["x": HostTensor(shape: [4, 3], (0..<12).map { Float(-$0) / 2 })]]
        let variables = [String: HostTensor](uniqueKeysWithValues: [("w", HostTensor(shape: [3], [1, 2, 3])), ("v", HostTensor(shape: [4, 3], (0..<12).map { Float($0) / 10 }))])
        let plain = try Interpreter().runReplicas(try step(), inputs: inputs, variables: [variables, variables])
        for graph in [bucketed, separate] {
            let results = try Interpreter().runReplicas(graph, inputs: inputs, variables: [variables, variables])
            for (param, output) in graph.gradients {
                let mean = zip(plain[0].outputs[output].scalars, plain[1].outputs[output].scalars).map { ($0 + $1) / 2 }
                #expect(results[0].outputs[output].scalars == mean, "\(param)")
                #expect(results[1].outputs[output] == results[0].outputs[output], "\(param)")
            }
        }
    }

    @Test func gradientsAreAveragedOnceAfterAutodiff() throws {
        var graph = try parse("""
              %0 = broadcast(@w) : f32[4,3]
              %1 = mul(%x, %0) : f32[4,3]
              %2 = reduce_sum(%1) {axes = [0, 1]} : f32[]
              return %2 : f32[]
            """)
        #expect(throws: Diagnostic.self) { try GradientAllReduce().run(&graph) }   // no gradients yet
        try Autodiff().run(&graph)
        try GradientAllReduce().run(&graph)
        let gradient = try #require(graph.gradients.first).output
        #expect(graph[graph.outputs[gradient]].op == .allReduce(.mean))
        let again = try #require(throws: Diagnostic.self) { try GradientAllReduce().run(&graph) }
        #expect(again.message.contains("already all-reduced"))
        let late = try #require(throws: Diagnostic.self) { try CrossReplicaStatistics(replicas: 2).run(&graph) }
        #expect(late.message.contains("already has an all_reduce"))
    }
}
