// ContractionTests: matmul with every transpose combination, against a hand-computed product.

import GraftIR
import GraftInterpreter
import Testing

@Suite struct ContractionTests {
    /// A = [[1, 2, 3], [4, 5, 6]] and B = [[1, 0], [-1, 2], [3, 1]]; A·B = [[8, 7], [17, 16]].
    static let a = tensor([2, 3], [1, 2, 3, 4, 5, 6])
    static let aTransposed = tensor([3, 2], [1, 4, 2, 5, 3, 6])
    static let b = tensor([3, 2], [1, 0, -1, 2, 3, 1])
    static let bTransposed = tensor([2, 3], [1, -1, 3, 0, 2, 1])

    @Test(arguments: [false, true], [false, true])
    func matmul(transposeA: Bool, transposeB: Bool) throws {
        // Each operand is stored transposed exactly when its flag asks matmul to transpose it back.
        let a = transposeA ? Self.aTransposed : Self.a
        let b = transposeB ? Self.bTransposed : Self.b
        let result = try single("%0 = matmul(%a, %b) {transpose_a = \(transposeA), transpose_b = \(transposeB)} : f32[2,2]",
                                arguments: [("a", a), ("b", b)], result: "f32[2,2]")
        #expect(result == tensor([2, 2], [8, 7, 17, 16]))
    }

    @Test func matmulAccumulatesInFloat64() throws {
        let a = tensor([1, 4], [1e8, 1, -1e8, 1])
        let ones = tensor([4, 1], [1, 1, 1, 1])
        let result = try single("%0 = matmul(%a, %b) {transpose_a = false, transpose_b = false} : f32[1,1]",
                                arguments: [("a", a), ("b", ones)], result: "f32[1,1]")
        #expect(result.scalars == [2])
    }

    @Test func outerProduct() throws {
        let column = tensor([3, 1], [1, 2, 3])
        let row = tensor([1, 2], [10, -1])
        let result = try single("%0 = matmul(%a, %b) {transpose_a = false, transpose_b = false} : f32[3,2]",
                                arguments: [("a", column), ("b", row)], result: "f32[3,2]")
        #expect(result == tensor([3, 2], [10, -1, 20, -2, 30, -3]))
    }
}
