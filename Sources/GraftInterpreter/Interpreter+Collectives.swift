// Interpreter+Collectives: `all_reduce` over a simulated group of replicas (`runReplicas`), so
// tests can run data-parallel graphs in one process.

import GraftIR

extension Interpreter {
    /// `all_reduce`: the replicas' operands combined elementwise (summed in Float64 in replica
    /// order, then divided by the group's size for `mean`), the same result for every replica.
    func allReduce(_ operands: [Values], _ node: Node) throws -> [Values] {
        guard let reduction = node.op.collectiveReduction else { throw Interpreter.mismatch(node) }
        var combined = [Double](repeating: 0, count: node.type.elementCount)
        for operand in operands {
            for index in combined.indices { combined[index] += operand.scalars[index] }
        }
        if reduction == .mean {
            for index in combined.indices { combined[index] /= Double(operands.count) }
        }
        return [Values](repeating: Values(node.type, combined), count: operands.count)
    }
}
