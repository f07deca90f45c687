// LayoutTests: broadcast, transpose, reshape, slice, concat and pad, and the leaves iota and
// constant, against hand-computed values.

import GraftIR
import GraftInterpreter
import Testing

/// A broadcast of a fixed operand to a shape, with the values it must give.
struct BroadcastCase: Sendable, CustomTestStringConvertible {
    var operand: HostTensor
    var shape: [Int]
    var expected: [Float]

    init(_ operand: HostTensor, to shape: [Int], expected: [Float]) {
        (self.operand, self.shape, self.expected) = (operand, shape, expected)
    }

    var testDescription: String { "\(operand.type) → \(shape)" }
}

@Suite struct LayoutTests {
    /// NumPy broadcasting, right-aligned: operand, result shape, expected.
    static let broadcastCases: [BroadcastCase] = [
        .init(tensor([3], [1, 2, 3]), to: [2, 3], expected: [1, 2, 3, 1, 2, 3]),
        .init(tensor([2, 1], [1, 2]), to: [2, 3], expected: [1, 1, 1, 2, 2, 2]),
        .init(tensor([], [5]), to: [2, 2], expected: [5, 5, 5, 5]),
        .init(tensor([3, 1], [1, 2, 3]), to: [2, 3, 2], expected: [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]),
        .init(tensor([1, 2], [7, 8]), to: [2, 2], expected: [7, 8, 7, 8]),
        .init(tensor([2, 2], [1, 2, 3, 4]), to: [2, 2], expected: [1, 2, 3, 4]),
    ]

    @Test(arguments: broadcastCases)
    func broadcast(_ test: BroadcastCase) throws {
        let type = TensorType(.f32, test.shape)
        let result = try single("%0 = broadcast(%x) : \(type)", arguments: [("x", test.operand)], result: "\(type)")
        #expect(result == HostTensor(type, test.expected))
    }

    @Test func transposeMatrix() throws {
        let x = tensor([2, 3], [1, 2, 3, 4, 5, 6])
        let result = try single("%0 = transpose(%x) {permutation = [1, 0]} : f32[3,2]", arguments: [("x", x)], result: "f32[3,2]")
        #expect(result == tensor([3, 2], [1, 4, 2, 5, 3, 6]))
    }

    @Test func transposeRank3() throws {
        // result[a, b, c] = x[b, c, a] with x = 1...12 of shape [2, 3, 2].
        let x = tensor([2, 3, 2], (1...12).map(Float.init))
        let result = try single("%0 = transpose(%x) {permutation = [2, 0, 1]} : f32[2,2,3]", arguments: [("x", x)], result: "f32[2,2,3]")
        #expect(result == tensor([2, 2, 3], [1, 3, 5, 7, 9, 11, 2, 4, 6, 8, 10, 12]))
    }

    @Test func reshapeKeepsRowMajorOrder() throws {
        let x = tensor([2, 3], [1, 2, 3, 4, 5, 6])
        let matrix = try single("%0 = reshape(%x) : f32[3,2]", arguments: [("x", x)], result: "f32[3,2]")
        #expect(matrix == tensor([3, 2], [1, 2, 3, 4, 5, 6]))
        let flat = try single("%0 = reshape(%x) : f32[6]", arguments: [("x", x)], result: "f32[6]")
        #expect(flat == tensor([6], [1, 2, 3, 4, 5, 6]))
    }

    @Test func sliceTakesABlock() throws {
        // [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] rows 1..<3, columns 1..<3.
        let x = tensor([3, 4], (1...12).map(Float.init))
        let block = try single("%0 = slice(%x) {limit = [3, 3], start = [1, 1]} : f32[2,2]", arguments: [("x", x)], result: "f32[2,2]")
        #expect(block == tensor([2, 2], [6, 7, 10, 11]))
        let column = try single("%0 = slice(%x) {limit = [3, 4], start = [0, 3]} : f32[3,1]", arguments: [("x", x)], result: "f32[3,1]")
        #expect(column == tensor([3, 1], [4, 8, 12]))
        let empty = try single("%0 = slice(%x) {limit = [2, 4], start = [2, 0]} : f32[0,4]", arguments: [("x", x)], result: "f32[0,4]")
        #expect(empty == tensor([0, 4], []))
    }

    @Test func concatAlongEachAxis() throws {
        let rows = try single("%0 = concat(%a, %b) {axis = 0} : f32[3,2]",
                              arguments: [("a", tensor([1, 2], [1, 2])), ("b", tensor([2, 2], [3, 4, 5, 6]))], result: "f32[3,2]")
        #expect(rows == tensor([3, 2], [1, 2, 3, 4, 5, 6]))
        let columns = try single("%0 = concat(%a, %b, %c) {axis = 1} : f32[2,4]",
                                 arguments: [("a", tensor([2, 1], [1, 2])), ("b", tensor([2, 2], [3, 4, 5, 6])),
                                             ("c", tensor([2, 1], [7, 8]))],
                                 result: "f32[2,4]")
        #expect(columns == tensor([2, 4], [1, 3, 4, 7, 2, 5, 6, 8]))
    }

    @Test func padWithZeros() throws {
        let x = tensor([2, 2], [1, 2, 3, 4])
        let result = try single("%0 = pad(%x) {high = [0, 2], low = [1, 0]} : f32[3,4]", arguments: [("x", x)], result: "f32[3,4]")
        #expect(result == tensor([3, 4], [0, 0, 0, 0,
                                          1, 2, 0, 0,
                                          3, 4, 0, 0]))
        let both = try single("%0 = pad(%x) {high = [1, 1], low = [1, 1]} : f32[4,4]", arguments: [("x", x)], result: "f32[4,4]")
        #expect(both == tensor([4, 4], [0, 0, 0, 0,
                                        0, 1, 2, 0,
                                        0, 3, 4, 0,
                                        0, 0, 0, 0]))
    }

    @Test func iota() throws {
        let rows = try single("%0 = iota() {axis = 0} : f32[2,3]", arguments: [], result: "f32[2,3]")
        #expect(rows == tensor([2, 3], [0, 0, 0, 1, 1, 1]))
        let columns = try single("%0 = iota() {axis = 1} : i32[2,3]", arguments: [], result: "i32[2,3]")
        #expect(columns == tensor(.i32, [2, 3], [0, 1, 2, 0, 1, 2]))
        let middle = try single("%0 = iota() {axis = 1} : f32[2,3,2]", arguments: [], result: "f32[2,3,2]")
        #expect(middle == tensor([2, 3, 2], [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]))
    }

    @Test func constantSplats() throws {
        let float = try single("%0 = constant() {value = 2.5} : f32[2,2]", arguments: [], result: "f32[2,2]")
        #expect(float == tensor([2, 2], [2.5, 2.5, 2.5, 2.5]))
        let scalar = try single("%0 = constant() {value = -1.0} : f32[]", arguments: [], result: "f32[]")
        #expect(scalar == tensor([], [-1]))
        let integer = try single("%0 = constant() {value = 3} : i32[3]", arguments: [], result: "i32[3]")
        #expect(integer == tensor(.i32, [3], [3, 3, 3]))
    }
}
