// Contraction: the sizes of the matrix products and convolutions contraction ops compute,
// worked out once here for the type rules, the interpreter, the backend and the FLOP count.
//
// Shape legend: input [N, C, H, W], filter [O, C, KH, KW], output [N, O, OH, OW].

/// Which of the three convolution computations a contraction is.
public enum ConvolutionDirection: String, CaseIterable, Hashable, Sendable {
    /// `y = conv2d(x, w)`.
    case forward
    /// `dx` from `(dy, w)`.
    case inputGradient
    /// `dw` from `(x, dy)`.
    case filterGradient
}

/// The geometry of one 2-D convolution, per image.
///
/// Output position `(oh, ow)` reads input rows `oh * stride[0] - padding[0] + (0..<KH)` and
/// columns `ow * stride[1] - padding[1] + (0..<KW)`; rows and columns outside the input read zero.
public struct ConvolutionGeometry: Hashable, Sendable {
    public var channels: Int, height: Int, width: Int
    public var outputChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var stride: [Int], padding: [Int]
    public var outputHeight: Int, outputWidth: Int

    /// Reads the geometry from an input shape `[N, C, H, W]`, a filter shape `[O, C, KH, KW]`
    /// and the op's stride and padding (checked by the type rule).
    public init(input: [Int], filter: [Int], stride: [Int], padding: [Int]) {
        channels = input[1]; height = input[2]; width = input[3]
        outputChannels = filter[0]; kernelHeight = filter[2]; kernelWidth = filter[3]
        self.stride = stride
        self.padding = padding
        outputHeight = (height + 2 * padding[0] - kernelHeight) / stride[0] + 1
        outputWidth = (width + 2 * padding[1] - kernelWidth) / stride[1] + 1
    }

    /// Rows of the patch matrix: C·KH·KW.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the patch matrix: OH·OW.
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Elements of one input image: C·H·W.
    public var imageSize: Int { channels * height * width }
    /// Whether the patch matrix is the image itself (1×1, stride 1, no padding).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == [1, 1] && padding == [0, 0]
    }

    /// The output shape for `batch` images: `[N, O, OH, OW]`.
    public func outputShape(batch: Int) -> [Int] { [batch, outputChannels, outputHeight, outputWidth] }

    /// The output row that filter row `filterRow` reads input row `inputRow` for, or nil if none.
    public func outputRow(inputRow: Int, filterRow: Int) -> Int? {
        Self.output(of: inputRow + padding[0] - filterRow, stride: stride[0], extent: outputHeight)
    }

    /// The output column that filter column `filterColumn` reads input column `inputColumn` for, or nil.
    public func outputColumn(inputColumn: Int, filterColumn: Int) -> Int? {
        Self.output(of: inputColumn + padding[1] - filterColumn, stride: stride[1], extent: outputWidth)
    }

    /// `position / stride` when that is an exact output index in `0..<extent`.
    private static func output(of position: Int, stride: Int, extent: Int) -> Int? {
        guard position >= 0, position % stride == 0, position / stride < extent else { return nil }
        return position / stride
    }

    /// The input and filter types of a convolution op computing `direction`: operands
    /// (x, w), (dy, w) or (x, dy); the gradients' result is the input or filter.
    public static func inputAndFilter(_ direction: ConvolutionDirection, operands: [TensorType],
                                      result: TensorType) -> (input: TensorType, filter: TensorType) {
        switch direction {
        case .forward: (operands[0], operands[1])
        case .inputGradient: (result, operands[1])
        case .filterGradient: (operands[0], result)
        }
    }
}

/// The sizes of `C = op(A) · op(B)` with row-major operands: `op(A)` is `[m, k]`, `op(B)`
/// `[k, n]`, `C` `[m, n]`; `lda`/`ldb` are the stored rows' lengths.
public struct MatrixProductGeometry: Hashable, Sendable {
    public var m: Int, n: Int, k: Int
    public var transposeA: Bool, transposeB: Bool
    public var lda: Int, ldb: Int

    public init(a: [Int], b: [Int], transposeA: Bool, transposeB: Bool) {
        (m, k) = transposeA ? (a[1], a[0]) : (a[0], a[1])
        n = transposeB ? b[0] : b[1]
        self.transposeA = transposeA
        self.transposeB = transposeB
        lda = a[1]
        ldb = b[1]
    }

    /// Whether the inner dimensions agree.
    public static func innerDimensionsAgree(a: [Int], b: [Int], transposeA: Bool, transposeB: Bool) -> Bool {
        (transposeA ? a[0] : a[1]) == (transposeB ? b[1] : b[0])
    }
}

/// The matrix product or convolution a contraction node computes.
public enum Contraction: Hashable, Sendable {
    case matrixProduct(MatrixProductGeometry)
    case convolution(ConvolutionGeometry, ConvolutionDirection, batch: Int)

    /// Floating-point operations, a multiply-add counted as 2, each convolution (or gradient)
    /// at its direct-convolution cost whatever algorithm runs it.
    public var flops: Double {
        switch self {
        case .matrixProduct(let g): 2 * Double(g.m) * Double(g.n) * Double(g.k)
        case .convolution(let g, _, let batch): 2 * Double(batch) * Double(g.outputChannels * g.outputPixels) * Double(g.patchSize)
        }
    }
}

extension Graph {
    /// The contraction node `id` computes, or nil if it is not a contraction.
    public func contraction(of id: ValueID) -> Contraction? {
        let node = nodes[id]
        return node.op.contraction(operands: node.operands.map { nodes[$0].type }, result: node.type)
    }
}
