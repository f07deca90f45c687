// IndexingTests: gather, scatter_add and random_uniform against hand-computed values, the
// interpreter's rejection of out-of-range indices, and the generator's distribution.

import GraftIR
import GraftInterpreter
import Testing

@Suite struct IndexingTests {
    /// A 3 × 2 table whose row r is [10r, 10r + 1].
    static let table = tensor([3, 2], [0, 1, 10, 11, 20, 21])

    @Test func gatherPicksRows() throws {
        let indices = tensor(.i32, [2, 2], [2, 0, 1, 2])
        let result = try single("%0 = gather(%t, %i) : f32[2,2,2]", arguments: [("t", Self.table), ("i", indices)], result: "f32[2,2,2]")
        #expect(result == tensor([2, 2, 2], [20, 21, 0, 1, 10, 11, 20, 21]))
    }

    @Test func scatterAddSumsRowsAtRepeatedIndices() throws {
        let indices = tensor(.i32, [3], [2, 0, 2])
        let updates = tensor([3, 2], [1, 2, 3, 4, 5, 6])
        let result = try single("%0 = scatter_add(%i, %u) : f32[3,2]", arguments: [("i", indices), ("u", updates)], result: "f32[3,2]")
        #expect(result == tensor([3, 2], [3, 4, 0, 0, 6, 8]))
    }

    @Test(arguments: [
        ("%0 = gather(%t, %i) : f32[2,2]", "gather: index 3 (element 1 of the indices) is outside the table's 3 rows; indices must be in 0..<3", [Float(0), 3]),
        ("%0 = gather(%t, %i) : f32[2,2]", "gather: index -1 (element 0 of the indices) is outside the table's 3 rows; indices must be in 0..<3", [-1, 0]),
    ] as [(String, String, [Float])])
    func gatherRejectsAnIndexOutsideTheTable(statement: String, message: String, indices: [Float]) throws {
        let error = #expect(throws: Diagnostic.self) {
            try single(statement, arguments: [("t", Self.table), ("i", tensor(.i32, [2], indices))], result: "f32[2,2]")
        }
        #expect(error?.message == message)
    }

    @Test func scatterAddRejectsAnIndexOutsideTheTable() throws {
        let error = #expect(throws: Diagnostic.self) {
            try single("%0 = scatter_add(%i, %u) : f32[3,2]",
                       arguments: [("i", tensor(.i32, [1], [5])), ("u", tensor([1, 2], [1, 1]))], result: "f32[3,2]")
        }
        #expect(error?.message == "scatter_add: index 5 (element 0 of the indices) is outside the table's 3 rows; indices must be in 0..<3")
    }

    /// Values written down by a Python implementation of the same hash (lowbias32), seed 7.
    @Test(arguments: [
        (Float(1), [0.5111570358276367, 0.9423497319221497, 0.7718222737312317, 0.36476802825927734]),
        (2, [0.059077680110931396, 0.4561317563056946, 0.5822886824607849, 0.7247892618179321]),
    ] as [(Float, [Float])])
    func randomUniformMatchesAnIndependentImplementation(step: Float, expected: [Float]) throws {
        let result = try single("%0 = random_uniform(%s) {seed = 7} : f32[2,2]", arguments: [("s", tensor([], [step]))], result: "f32[2,2]")
        #expect(result == tensor([2, 2], expected))
    }

    @Test func randomUniformIsUniformOnTheUnitInterval() throws {
        let count = 20_000
        let values = try single("%0 = random_uniform(%s) {seed = 1} : f32[\(count)]", arguments: [("s", tensor([], [3]))], result: "f32[\(count)]").scalars
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        // Each tenth of [0, 1) holds 2,000 ± 5σ (σ = √(20000·0.1·0.9) ≈ 42).
        for bin in 0..<10 {
            let inBin = values.filter { Int($0 * 10) == bin }.count
            #expect(abs(inBin - count / 10) < 212, "bin \(bin) holds \(inBin)")
        }
    }
}
