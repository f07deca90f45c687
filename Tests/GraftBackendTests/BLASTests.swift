// BLAS tests: OpenBLAS's sgemm against a product computed by hand, for every transpose
// combination and with padded rows.
import GraftBackend
import Testing

/// A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[7, 8], [9, 10], [11, 12]] (3×2).
private let a: [[Float]] = [[1, 2, 3], [4, 5, 6]]
private let b: [[Float]] = [[7, 8], [9, 10], [11, 12]]
/// A·B by hand: [1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12].
private let product: [[Float]] = [[58, 64], [139, 154]]

/// Row-major storage of `matrix` (or its transpose), each row followed by `padding` NaNs
/// that sgemm must never read.
private func stored(_ matrix: [[Float]], transposed: Bool, padding: Int) -> (values: [Float], leading: Int) {
    let rows = transposed ? (0..<matrix[0].count).map { j in matrix.map { $0[j] } } : matrix
    return (rows.flatMap { $0 + [Float](repeating: .nan, count: padding) }, rows[0].count + padding)
}

struct Transposes: Sendable, CustomTestStringConvertible {
    var a: Bool
    var b: Bool
    var testDescription: String { "A\(a ? "ᵀ" : "")·B\(b ? "ᵀ" : "")" }
}

@Test(arguments: [Transposes(a: false, b: false), Transposes(a: false, b: true),
                  Transposes(a: true, b: false), Transposes(a: true, b: true)],
      [0, 3])
func sgemmMatchesHandComputedProduct(_ transposes: Transposes, padding: Int) {
    let (storedA, lda) = stored(a, transposed: transposes.a, padding: padding)
    let (storedB, ldb) = stored(b, transposed: transposes.b, padding: padding)
    let ldc = 2 + padding
    let sentinel: Float = -7
    let previous: [Float] = [1, 2, 3, 4]
    var c = [Float](repeating: sentinel, count: 2 * ldc)
    for i in 0..<2 { for j in 0..<2 { c[i * ldc + j] = previous[i * 2 + j] } }

    // C = 2·op(Aₛ)·op(Bₛ) + 0.5·C, where op undoes the storage transpose.
    c.withUnsafeMutableBufferPointer { c in
        BLAS.sgemm(transposeA: transposes.a, transposeB: transposes.b, m: 2, n: 2, k: 3, alpha: 2,
                   a: storedA, lda: lda, b: storedB, ldb: ldb, beta: 0.5, c: c.baseAddress!, ldc: ldc)
    }
    for i in 0..<2 {
        for j in 0..<2 {
            #expect(c[i * ldc + j] == 2 * product[i][j] + 0.5 * previous[i * 2 + j], "C[\(i)][\(j)]")
        }
        for j in 2..<ldc { #expect(c[i * ldc + j] == sentinel, "padding C[\(i)][\(j)] was written") }
    }
}

@Test func sgemmWithZeroBetaIgnoresOldContents() {
    let (storedA, _) = stored(a, transposed: false, padding: 0)
    let (storedB, _) = stored(b, transposed: false, padding: 0)
    var c = [Float](repeating: .nan, count: 4)
    c.withUnsafeMutableBufferPointer { c in
        BLAS.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 1,
                   a: storedA, lda: 3, b: storedB, ldb: 2, beta: 0, c: c.baseAddress!, ldc: 2)
    }
    #expect(c == product.flatMap { $0 })
}

@Test func coreNameAndThreadCountAreReported() {
    let name = BLAS.coreName
    #expect(!name.isEmpty)
    let threads = BLAS.threadCount
    #expect(threads >= 1)
    BLAS.setThreadCount(1)
    #expect(BLAS.threadCount == 1)
    BLAS.setThreadCount(threads)
    #expect(BLAS.threadCount == threads)
    print("OpenBLAS core: \(name), threads: \(threads)")
}

@Test func measureSGEMMReturnsAPositiveRate() {
    let rate = BLAS.measureSGEMM(size: 64, repetitions: 3)
    #expect(rate > 0 && rate.isFinite)
}
