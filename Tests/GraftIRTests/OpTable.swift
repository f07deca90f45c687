// OpTable: one hand-typed example of every statement op (operand types and the result type
// worked out by hand), shared by the round-trip and type-inference tests.

import GraftIR

/// An op applied to operands of known types, with the result type computed by hand.
struct OpExample: Sendable, CustomStringConvertible {
    var op: Op
    var operands: [TensorType]
    var result: TensorType
    var description: String { "\(op.name)(\(operands.map(\.description).joined(separator: ", "))) → \(result)" }
}

let opExamples: [OpExample] = [
    OpExample(op: .constant(0.25), operands: [], result: f32(2, 3)),
    OpExample(op: .iota(axis: 1), operands: [], result: i32(4, 5)),
    OpExample(op: .neg, operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .neg, operands: [i32(7)], result: i32(7)),
    OpExample(op: .abs, operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .exp, operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .log, operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .sqrt, operands: [f32()], result: f32()),
    OpExample(op: .rsqrt, operands: [f32(5)], result: f32(5)),
    OpExample(op: .tanh, operands: [f32(1, 1, 1)], result: f32(1, 1, 1)),
    OpExample(op: .relu, operands: [f32(8)], result: f32(8)),
    OpExample(op: .sigmoid, operands: [f32(2, 4)], result: f32(2, 4)),
    OpExample(op: .convert, operands: [i32(2, 3)], result: f32(2, 3)),
    OpExample(op: .convert, operands: [bool(4)], result: f32(4)),
    OpExample(op: .stopGradient, operands: [f32(3)], result: f32(3)),
    OpExample(op: .add, operands: [f32(2, 3), f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .sub, operands: [i32(4), i32(4)], result: i32(4)),
    OpExample(op: .mul, operands: [f32(), f32()], result: f32()),
    OpExample(op: .div, operands: [f32(6), f32(6)], result: f32(6)),
    OpExample(op: .max, operands: [f32(2, 2), f32(2, 2)], result: f32(2, 2)),
    OpExample(op: .min, operands: [f32(2, 2), f32(2, 2)], result: f32(2, 2)),
    OpExample(op: .compare(.eq), operands: [f32(3), f32(3)], result: bool(3)),
    OpExample(op: .compare(.ne), operands: [i32(3), i32(3)], result: bool(3)),
    OpExample(op: .compare(.lt), operands: [f32(3), f32(3)], result: bool(3)),
    OpExample(op: .compare(.le), operands: [f32(3), f32(3)], result: bool(3)),
    OpExample(op: .compare(.gt), operands: [f32(3), f32(3)], result: bool(3)),
    OpExample(op: .compare(.ge), operands: [bool(3), bool(3)], result: bool(3)),
    OpExample(op: .select, operands: [bool(2, 3), f32(2, 3), f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .reduceSum(axes: [0, 2]), operands: [f32(2, 3, 4)], result: f32(3)),
    OpExample(op: .reduceSum(axes: []), operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .reduceMean(axes: [1]), operands: [f32(2, 3, 4)], result: f32(2, 4)),
    OpExample(op: .reduceMax(axes: [0, 1, 2]), operands: [f32(2, 3, 4)], result: f32()),
    OpExample(op: .reshape, operands: [f32(2, 3, 4)], result: f32(6, 4)),
    OpExample(op: .reshape, operands: [f32(1)], result: f32()),
    OpExample(op: .transpose(permutation: [2, 0, 1]), operands: [f32(2, 3, 4)], result: f32(4, 2, 3)),
    OpExample(op: .broadcast, operands: [f32(3, 1)], result: f32(2, 3, 5)),
    OpExample(op: .broadcast, operands: [f32()], result: f32(4, 4)),
    OpExample(op: .slice(start: [1, 0], limit: [3, 2]), operands: [f32(4, 5)], result: f32(2, 2)),
    OpExample(op: .concat(axis: 1), operands: [f32(2, 3), f32(2, 1), f32(2, 4)], result: f32(2, 8)),
    OpExample(op: .concat(axis: 0), operands: [i32(5)], result: i32(5)),
    OpExample(op: .pad(low: [1, 0], high: [2, 3]), operands: [f32(4, 5)], result: f32(7, 8)),
    OpExample(op: .gather, operands: [f32(10, 4), i32(2, 3)], result: f32(2, 3, 4)),
    OpExample(op: .gather, operands: [f32(10, 4), i32()], result: f32(4)),
    OpExample(op: .scatterAdd, operands: [i32(2, 3), f32(2, 3, 4)], result: f32(10, 4)),
    OpExample(op: .allReduce(.sum), operands: [f32(2, 3)], result: f32(2, 3)),
    OpExample(op: .randomUniform(seed: 3), operands: [f32()], result: f32(2, 5)),
    OpExample(op: .randomUniform(seed: -1), operands: [i32()], result: f32()),
    OpExample(op: .matmul(transposeA: false, transposeB: false), operands: [f32(4, 3), f32(3, 2)], result: f32(4, 2)),
    OpExample(op: .matmul(transposeA: true, transposeB: false), operands: [f32(3, 4), f32(3, 2)], result: f32(4, 2)),
    OpExample(op: .matmul(transposeA: false, transposeB: true), operands: [f32(4, 3), f32(2, 3)], result: f32(4, 2)),
    OpExample(op: .matmul(transposeA: true, transposeB: true), operands: [f32(3, 4), f32(2, 3)], result: f32(4, 2)),
    OpExample(op: .conv2d(stride: [1, 1], padding: [1, 1]), operands: [f32(256, 1, 28, 28), f32(32, 1, 3, 3)], result: f32(256, 32, 28, 28)),
    OpExample(op: .conv2d(stride: [2, 2], padding: [1, 1]), operands: [f32(8, 32, 28, 28), f32(64, 32, 3, 3)], result: f32(8, 64, 14, 14)),
    OpExample(op: .conv2d(stride: [1, 1], padding: [0, 0]), operands: [f32(1, 3, 28, 28), f32(6, 3, 5, 5)], result: f32(1, 6, 24, 24)),
    OpExample(op: .conv2d(stride: [2, 1], padding: [0, 2]), operands: [f32(1, 1, 7, 7), f32(2, 1, 3, 3)], result: f32(1, 2, 3, 9)),
    OpExample(op: .conv2dInputGrad(stride: [2, 2], padding: [1, 1]), operands: [f32(8, 64, 14, 14), f32(64, 32, 3, 3)], result: f32(8, 32, 28, 28)),
    OpExample(op: .conv2dInputGrad(stride: [1, 1], padding: [0, 0]), operands: [f32(1, 6, 24, 24), f32(6, 3, 5, 5)], result: f32(1, 3, 28, 28)),
    OpExample(op: .conv2dFilterGrad(stride: [2, 2], padding: [1, 1]), operands: [f32(8, 32, 28, 28), f32(8, 64, 14, 14)], result: f32(64, 32, 3, 3)),
    OpExample(op: .conv2dFilterGrad(stride: [1, 1], padding: [1, 1]), operands: [f32(256, 1, 28, 28), f32(256, 32, 28, 28)], result: f32(32, 1, 3, 3)),
    // (28 − 2)/2 + 1 = 14; (28 + 2 − 3)/2 + 1 = 14; (7 + 0 − 3)/2 + 1 = 3 and (6 + 2 − 2)/1 + 1 = 7.
    OpExample(op: .maxPool2d(window: [2, 2], stride: [2, 2], padding: [0, 0]), operands: [f32(256, 32, 28, 28)], result: f32(256, 32, 14, 14)),
    OpExample(op: .maxPool2d(window: [3, 3], stride: [2, 2], padding: [1, 1]), operands: [f32(256, 32, 28, 28)], result: f32(256, 32, 14, 14)),
    OpExample(op: .maxPool2d(window: [3, 2], stride: [2, 1], padding: [0, 1]), operands: [f32(1, 2, 7, 6)], result: f32(1, 2, 3, 7)),
    OpExample(op: .maxPool2dGrad(window: [3, 3], stride: [2, 2], padding: [1, 1]), operands: [f32(8, 32, 28, 28), f32(8, 32, 14, 14)], result: f32(8, 32, 28, 28)),
    OpExample(op: .maxPool2dSelect(window: [3, 2], stride: [2, 1], padding: [0, 1]), operands: [f32(1, 2, 7, 6), f32(1, 2, 7, 6)], result: f32(1, 2, 3, 7)),
    OpExample(op: .avgPool2d(window: [2, 2], stride: [2, 2], padding: [0, 0]), operands: [f32(4, 3, 5, 5)], result: f32(4, 3, 2, 2)),
    OpExample(op: .avgPool2dGrad(window: [2, 2], stride: [2, 2], padding: [0, 0]), operands: [f32(4, 3, 2, 2)], result: f32(4, 3, 5, 5)),
]

extension OpExample {
    /// A graph with one input per operand and this op as its only statement and output.
    var graph: Graph {
        var graph = Graph(name: "one_op")
        let inputs = operands.enumerated().map { index, type in graph.append(Node(.input("a\(index)"), type: type)) }
        let result = graph.append(Node(op, inputs, type: result, location: IRLocation(file: "ops.swift", line: 7, column: 3)))
        graph.outputs = [result]
        return graph
    }
}
