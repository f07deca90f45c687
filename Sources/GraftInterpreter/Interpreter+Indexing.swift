// Interpreter+Indexing: ops that read or write table rows at data-dependent positions
// (`gather`, `scatter_add`) and the counter-based generator `random_uniform`.
//
// An index outside the table is an error here, reported at the op's location; compiled code
// clamps it to the nearest row instead (Docs/IR.md).

import GraftIR

extension Interpreter {
    /// `gather`: `result[p..., c] = table[indices[p...], c]`.
    func gather(_ table: Values, indices: Values, _ node: Node) throws -> Values {
        let (rows, columns) = (table.shape[0], table.shape[1])
        var scalars: [Double] = []
        scalars.reserveCapacity(node.type.elementCount)
        for (position, index) in indices.scalars.enumerated() {
            let row = try Interpreter.row(index, position: position, rows: rows, node)
            scalars += table.scalars[(row * columns)..<((row + 1) * columns)]
        }
        return Values(node.type, scalars)
    }

    /// `scatter_add`: a zero table to which each row of `updates` is added at its index; each
    /// sum accumulates in Float64 and is rounded once.
    func scatterAdd(indices: Values, updates: Values, _ node: Node) throws -> Values {
        let (rows, columns) = (node.type.shape[0], node.type.shape[1])
        var scalars = [Double](repeating: 0, count: node.type.elementCount)
        for (position, index) in indices.scalars.enumerated() {
            let row = try Interpreter.row(index, position: position, rows: rows, node)
            for column in 0..<columns { scalars[row * columns + column] += updates.scalars[position * columns + column] }
        }
        return Values(node.type, scalars)
    }

    /// `random_uniform`: `RandomUniform.value` of the seed, the step and each element's index.
    func randomUniform(seed: Int, step: Double, _ type: TensorType) -> Values {
        let key = RandomUniform.key(seed: seed, step: RandomUniform.stepBits(step))
        return Values(type, (0..<type.elementCount).map { RandomUniform.value(key: key, index: $0) })
    }

    /// The table row an index names, or a located error if it names none.
    private static func row(_ index: Double, position: Int, rows: Int, _ node: Node) throws -> Int {
        guard index >= 0, index < Double(rows) else {
            let shown = index.isFinite ? String(Int(index)) : String(index)
            throw Diagnostic("\(node.op.name): index \(shown) (element \(position) of the indices) is outside the table's \(rows) rows; indices must be in 0..<\(rows)",
                             at: node.location)
        }
        return Int(index)
    }
}
