// Interpreter+Contraction: matmul, a product of rank-2 operands with a Float64 inner product.

import GraftIR

extension Interpreter {
    /// `matmul`: `result[i, j] = Σ_k a'[i, k] * b'[k, j]`, where `a'` and `b'` are the operands,
    /// each transposed if asked; each sum accumulates in Float64 and rounds once.
    func matmul(_ a: Values, _ b: Values, _ g: MatrixProductGeometry, _ type: TensorType) -> Values {
        let (m, n, depth) = (g.m, g.n, g.k)
        // Strides of a'[i, k] and b'[k, j] in the stored row-major operands.
        let (aRow, aDepth) = g.transposeA ? (1, g.lda) : (g.lda, 1)
        let (bDepth, bColumn) = g.transposeB ? (1, g.ldb) : (g.ldb, 1)
        var scalars = [Double](repeating: 0, count: m * n)
        a.scalars.withUnsafeBufferPointer { a in
            b.scalars.withUnsafeBufferPointer { b in
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for k in 0..<depth {
                            sum += Double(a[i * aRow + k * aDepth]) * Double(b[k * bDepth + j * bColumn])
                        }
                        scalars[i * n + j] = sum
                    }
                }
            }
        }
        return Values(type, scalars)
    }
}
