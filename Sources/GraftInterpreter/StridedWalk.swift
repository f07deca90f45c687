// StridedWalk: visits every position of a shape in row-major order and reports where that
// position lies in another strided layout; layout ops and reductions are built on it.

/// Calls `body(offset)` once for every position of `shape`, in row-major order, with
/// `offset = base + Σ index[i] * strides[i]`.
///
/// Gathers (transpose, broadcast, slice) pass the operand's strides and read at `offset`;
/// scatters (pad, concat) pass the result's strides and write there; reductions pass the
/// result's strides with 0 on the reduced axes. A shape with a zero dimension has no positions;
/// a scalar has one.
func forEachOffset(shape: [Int], strides: [Int], base: Int = 0, _ body: (Int) -> Void) {
    precondition(shape.count == strides.count, "forEachOffset: \(shape.count) dimensions but \(strides.count) strides")
    guard !shape.contains(0) else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var offset = base
    while true {
        body(offset)
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < shape[axis] { break }
            offset -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}
