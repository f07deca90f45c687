// ConvGeometry: the sizes of a 2-D convolution (shape legend N, C, H, W / O, KH, KW / OH, OW),
// shared by conv2d and its two gradients.

import GraftIR

/// The dimensions of `conv2d(input, filter)` with input NCHW `[n, c, h, w]`, filter OIHW
/// `[o, c, kh, kw]` and output `[n, o, oh, ow]`, plus its stride and symmetric zero padding.
///
/// Output position `(oh, ow)` reads input rows `oh * strideH - padH + (0..<kh)` and columns
/// `ow * strideW - padW + (0..<kw)`; rows and columns outside the input read zero.
struct ConvGeometry {
    let n, c, h, w: Int
    let o, kh, kw: Int
    let oh, ow: Int
    let strideH, strideW: Int
    let padH, padW: Int

    /// The geometry of a convolution of `input` by `filter` (types the verifier has checked).
    init(input: TensorType, filter: TensorType, stride: [Int], padding: [Int]) {
        (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        (o, kh, kw) = (filter.shape[0], filter.shape[2], filter.shape[3])
        (strideH, strideW) = (stride[0], stride[1])
        (padH, padW) = (padding[0], padding[1])
        oh = (h + 2 * padH - kh) / strideH + 1
        ow = (w + 2 * padW - kw) / strideW + 1
    }

    /// The output type `[n, o, oh, ow]`.
    var outputType: TensorType { TensorType(.f32, [n, o, oh, ow]) }

    /// The output row that filter row `row` reads input row `inputRow` for, or nil if none.
    func outputRow(inputRow: Int, filterRow row: Int) -> Int? {
        Self.output(of: inputRow + padH - row, stride: strideH, extent: oh)
    }

    /// The output column that filter column `column` reads input column `inputColumn` for, or nil.
    func outputColumn(inputColumn: Int, filterColumn column: Int) -> Int? {
        Self.output(of: inputColumn + padW - column, stride: strideW, extent: ow)
    }

    /// `position / stride` when that is an exact output index in `0..<extent`.
    private static func output(of position: Int, stride: Int, extent: Int) -> Int? {
        guard position >= 0, position % stride == 0, position / stride < extent else { return nil }
        return position / stride
    }
}
