// Embedding: a learned table of vectors looked up by integer index.

import GraftIR

/// A table of `count` learned vectors of size `dimension`, looked up by i32 indices of any
/// shape: `[indices..., dimension]` (the IR's `gather`; its gradient is a `scatter_add`).
///
/// ```swift
/// let embed = Embedding(scope("embed"), count: 10_000, dimension: 64)
/// let vectors = embed(tokens)                     // i32[N, T] → f32[N, T, 64]
/// ```
///
/// An index outside 0..<count is an error in the interpreter; compiled code clamps it to the
/// nearest row.
///
/// - Params: `<scope>.weight`, `[count, dimension]`, normal with std 1 (PyTorch's default).
public struct Embedding: Layer {
    public let weight: Tensor

    public init(_ scope: Scope, count: Int, dimension: Int, file: String = #filePath, line: Int = #line) {
        weight = scope.param("weight", shape: [count, dimension], .normal(std: 1), file: file, line: line)
    }

    public func forward(_ indices: Tensor) -> Tensor { gather(weight, indices) }
}
