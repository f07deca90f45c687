// PoolingLayerTests: MaxPool2D, AvgPool2D and Flatten record the ops and shapes PyTorch's
// layers of the same arguments give, compute hand-checked values, and report a bad window
// at the line that called the layer.

import Testing
import GraftDSL
import GraftInterpreter

@Suite struct PoolingLayerTests {
    @Test func maxPoolStrideDefaultsToTheKernelSize() throws {
        let traced = try trace("pool") { g in
            [MaxPool2D(kernelSize: 2)(g.input("x", shape: [2, 3, 28, 28]))]
        }
        #expect(traced.graph.nodes.map(\.op).contains(.maxPool2d(window: [2, 2], stride: [2, 2], padding: [0, 0])))
        #expect(traced.graph.outputTypes == [TensorType(.f32, [2, 3, 14, 14])])
    }

    @Test func avgPool3x3Stride2Padding1HalvesTheMap() throws {
        let traced = try trace("pool") { g in
            [AvgPool2D(kernelSize: 3, stride: 2, padding: 1)(g.input("x", shape: [2, 3, 28, 28]))]
        }
        #expect(traced.graph.nodes.map(\.op).contains(.avgPool2d(window: [3, 3], stride: [2, 2], padding: [1, 1])))
        #expect(traced.graph.outputTypes == [TensorType(.f32, [2, 3, 14, 14])])
    }

    @Test func poolThenFlattenComputesHandCheckedValues() throws {
        // One 4×4 image of 1...16 in two channels (the second negated): 2×2 max pooling gives
        // [6, 8, 14, 16] and [−1, −3, −9, −11]; 2×2 average pooling [3.5, 5.5, 11.5, 13.5] and its
        // negation; Flatten lays each image's channels out one after the other.
        let traced = try trace("pool") { g in
            let x = g.input("x", shape: [1, 2, 4, 4])
            return [Flatten()(maxPool2d(x, kernelSize: 2)), Flatten()(avgPool2d(x, kernelSize: 2))]
        }
        #expect(traced.graph.outputTypes == [TensorType(.f32, [1, 8]), TensorType(.f32, [1, 8])])
        let ramp = (1...16).map(Float.init)
        let x = HostTensor(shape: [1, 2, 4, 4], ramp + ramp.map { -$0 })
        let outputs = try Interpreter().run(traced.graph, inputs: ["x": x], variables: [:]).outputs
        #expect(outputs[0].scalars == [6, 8, 14, 16, -1, -3, -9, -11])
        #expect(outputs[1].scalars == [3.5, 5.5, 11.5, 13.5, -3.5, -5.5, -11.5, -13.5])
    }

    @Test func flattenKeepsTheBatchAxis() throws {
        let traced = try trace("flatten") { g in
            [Flatten()(g.input("x", shape: [5, 32, 3, 3])), Flatten()(g.input("v", shape: [7]))]
        }
        #expect(traced.graph.outputTypes == [TensorType(.f32, [5, 288]), TensorType(.f32, [7, 1])])
    }

    @Test func flattenOfAScalarIsAnErrorAtTheLayerCall() throws {
        let line = #line + 3
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                [Flatten()(g.input("x", shape: []))]
            }
        }
        let error = try #require(thrown)
        #expect(error.location == SourceLocation(file: "Tests/GraftTests/PoolingLayerTests.swift", line: line))
        #expect(error.message == "Flatten: expects a tensor with a batch axis, got f32[]")
    }

    @Test func aWindowLargerThanTheMapIsAnErrorAtTheLayerCall() throws {
        let line = #line + 3
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                [MaxPool2D(kernelSize: 5, stride: 1)(g.input("x", shape: [1, 3, 4, 4]))]
            }
        }
        let error = try #require(thrown)
        #expect(error.location == SourceLocation(file: "Tests/GraftTests/PoolingLayerTests.swift", line: line))
        #expect(error.message == "max_pool2d: the 5×5 window is larger than the 4×4 input padded by [0, 0] (f32[1,3,4,4])")
    }
}
