// Executable+ScatterAdd: `scatter_add` (the gradient of `gather`, an embedding table's) as a
// serial loop: rows are added in index order into Float64 sums rounded once, as the reference
// interpreter adds them, so the result does not depend on thread timing.

import GraftIR

extension Executable {
    /// Zeroes the `rows × columns` table `result` and adds row p of `updates` at row
    /// `indices[p]` for p in 0..<count; an index outside the table is clamped to it (NaN to 0).
    static func scatterAdd(rows: Int, columns: Int, count: Int, indices: UnsafeMutablePointer<Float>,
                           updates: UnsafeMutablePointer<Float>, into result: UnsafeMutablePointer<Float>) {
        var sums = [Double](repeating: 0, count: rows * columns)
        for position in 0..<count {
            let stored = indices[position]
            let row = stored >= 0 ? Int(Swift.min(stored, Float(rows - 1))) : 0
            let source = updates + position * columns
            for column in 0..<columns { sums[row * columns + column] += Double(source[column]) }
        }
        for offset in 0..<(rows * columns) { result[offset] = Float(sums[offset]) }
    }
}
