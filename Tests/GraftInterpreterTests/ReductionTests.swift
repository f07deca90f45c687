// ReductionTests: reduce_sum, reduce_mean and reduce_max over one, several, all and no axes,
// and the Float64 accumulation every sum promises.

import GraftIR
import GraftInterpreter
import Testing

/// One reduction over fixed axes, with the result shape and values it must give.
struct ReductionCase: Sendable, CustomTestStringConvertible {
    var op: String
    var axes: [Int]
    var shape: [Int]
    var expected: [Float]

    init(_ op: String, axes: [Int], shape: [Int], expected: [Float]) {
        (self.op, self.axes, self.shape, self.expected) = (op, axes, shape, expected)
    }

    var testDescription: String { "\(op) \(axes)" }
}

@Suite struct ReductionTests {
    /// x[i, j, k] = 1 + 6i + 2j + k for shape [2, 3, 2], i.e. 1...12 in row-major order.
    static let x = tensor([2, 3, 2], (1...12).map(Float.init))

    static let sumAndMeanCases: [ReductionCase] = [
        .init("reduce_sum", axes: [0], shape: [3, 2], expected: [8, 10, 12, 14, 16, 18]),
        .init("reduce_sum", axes: [1], shape: [2, 2], expected: [9, 12, 27, 30]),
        .init("reduce_sum", axes: [2], shape: [2, 3], expected: [3, 7, 11, 15, 19, 23]),
        .init("reduce_sum", axes: [0, 2], shape: [3], expected: [18, 26, 34]),
        .init("reduce_sum", axes: [2, 0], shape: [3], expected: [18, 26, 34]),
        .init("reduce_sum", axes: [0, 1, 2], shape: [], expected: [78]),
        .init("reduce_sum", axes: [], shape: [2, 3, 2], expected: (1...12).map(Float.init)),
        .init("reduce_mean", axes: [0], shape: [3, 2], expected: [4, 5, 6, 7, 8, 9]),
        .init("reduce_mean", axes: [1], shape: [2, 2], expected: [3, 4, 9, 10]),
        .init("reduce_mean", axes: [0, 2], shape: [3], expected: [4.5, 6.5, 8.5]),
        .init("reduce_mean", axes: [0, 1, 2], shape: [], expected: [6.5]),
    ]

    @Test(arguments: sumAndMeanCases)
    func sumAndMean(_ test: ReductionCase) throws {
        let type = TensorType(.f32, test.shape)
        let result = try single("%0 = \(test.op)(%x) {axes = \(test.axes)} : \(type)", arguments: [("x", Self.x)], result: "\(type)")
        #expect(result == HostTensor(type, test.expected))
    }

    /// A [2, 3, 2] tensor whose maxima are not simply its last elements.
    static let mixed = tensor([2, 3, 2], [3, -1, 0, 7, -2, 5, 4, 4, -8, 1, 6, -3])

    static let maxCases: [ReductionCase] = [
        .init("reduce_max", axes: [0], shape: [3, 2], expected: [4, 4, 0, 7, 6, 5]),
        .init("reduce_max", axes: [1], shape: [2, 2], expected: [3, 7, 6, 4]),
        .init("reduce_max", axes: [2], shape: [2, 3], expected: [3, 7, 5, 4, 1, 6]),
        .init("reduce_max", axes: [0, 2], shape: [3], expected: [4, 7, 6]),
        .init("reduce_max", axes: [0, 1, 2], shape: [], expected: [7]),
    ]

    @Test(arguments: maxCases)
    func reduceMax(_ test: ReductionCase) throws {
        let type = TensorType(.f32, test.shape)
        let result = try single("%0 = reduce_max(%x) {axes = \(test.axes)} : \(type)", arguments: [("x", Self.mixed)], result: "\(type)")
        #expect(result == HostTensor(type, test.expected))
    }

    @Test func emptyReductions() throws {
        let empty = tensor([0, 2], [])
        let maximum = try single("%0 = reduce_max(%x) {axes = [0]} : f32[2]", arguments: [("x", empty)], result: "f32[2]")
        #expect(maximum.scalars == [-.infinity, -.infinity])
        let sum = try single("%0 = reduce_sum(%x) {axes = [0]} : f32[2]", arguments: [("x", empty)], result: "f32[2]")
        #expect(sum.scalars == [0, 0])
    }

    @Test func reduceOverIntegers() throws {
        let x = tensor(.i32, [2, 2], [1, -5, 3, 2])
        let sum = try single("%0 = reduce_sum(%x) {axes = [1]} : i32[2]", arguments: [("x", x)], result: "i32[2]")
        #expect(sum == tensor(.i32, [2], [-4, 5]))
        let maximum = try single("%0 = reduce_max(%x) {axes = [0]} : i32[2]", arguments: [("x", x)], result: "i32[2]")
        #expect(maximum == tensor(.i32, [2], [3, 2]))
    }

    @Test func sumsAccumulateInFloat64() throws {
        // In Float32, 1e8 + 1 rounds back to 1e8, so a Float32 running sum gives 1, not 2.
        let x = tensor([4], [1e8, 1, -1e8, 1])
        let sum = try single("%0 = reduce_sum(%x) {axes = [0]} : f32[]", arguments: [("x", x)], result: "f32[]")
        #expect(sum.scalars == [2])
        let mean = try single("%0 = reduce_mean(%x) {axes = [0]} : f32[]", arguments: [("x", x)], result: "f32[]")
        #expect(mean.scalars == [0.5])
    }
}
