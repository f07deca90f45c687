// KernelCall: what the runtime executes for each kernel of a fusion plan: a compiled loop, a
// BLAS matrix product, a convolution, a scatter-add or an all-reduce. The backend builds the list (`CompiledKernels.calls`);
// the runtime runs it without looking at ops.

import GraftIR
import GraftPasses

/// One kernel of a compiled step, ready to run.
public enum KernelCall {
    /// The compiled loop of plan kernel `kernel` over its `elements` output elements; `work`
    /// counts the elements it reads (the runtime splits large loops across its workers).
    case loop(KernelFunction, kernel: Int, elements: Int, work: Int)
    /// `c = op(a) · op(b)` on the BLAS.
    case matrixProduct(MatrixProductGeometry, a: ValueID, b: ValueID, c: ValueID)
    case convolution(ConvolutionCall)
    /// `scatter_add`: `result` (`rows × columns`) zeroed, then each of the `count` rows of
    /// `updates` added at its entry of `indices` (clamped to the table).
    case scatterAdd(rows: Int, columns: Int, count: Int, indices: ValueID, updates: ValueID, result: ValueID)
    /// `all_reduce`: `operand`'s `count` floats combined across the replicas into `result` by
    /// the executable's communicator.
    case allReduce(CollectiveReduction, count: Int, operand: ValueID, result: ValueID)
}

/// A convolution (or one of its gradients) over a batch, with the generated code it runs.
public struct ConvolutionCall {
    public var geometry: ConvolutionGeometry
    public var direction: ConvolutionDirection
    public var batch: Int
    /// The operands as the op takes them: (x, w), (dy, w) or (x, dy), and the result.
    public var first: ValueID, second: ValueID, result: ValueID
    /// The gather of an image's patches and its adjoint (nil for pointwise convolutions).
    public var im2col: KernelFunction?, col2im: KernelFunction?
    /// The generated matrix product and its function (nil: the BLAS computes it, or the
    /// Winograd form does).
    public var product: ConvolutionProduct?, productFunction: KernelFunction?
    /// The Winograd forms of 3×3 stride-1 convolutions (forward passes and input gradients;
    /// filter gradients), used instead of im2col and a product where present.
    public var winograd: WinogradFunctions?
    public var winogradFilterGradient: WinogradFilterGradientFunctions?
}

/// The compiled loops of one Winograd convolution and the product of each of its positions.
public struct WinogradFunctions: Sendable {
    public var convolution: WinogradConvolution
    public var weights: KernelFunction, pack: KernelFunction, input: KernelFunction, output: KernelFunction, unpack: KernelFunction
    public var product: KernelFunction
}

/// The compiled loops of one Winograd filter gradient: x's (the forward pass's pack and input
/// transform), dy's, the product of each of its positions and the final transform.
public struct WinogradFilterGradientFunctions: Sendable {
    public var gradient: WinogradFilterGradient
    public var pack: KernelFunction, input: KernelFunction, gradientPack: KernelFunction, gradientTransform: KernelFunction
    public var filter: KernelFunction, product: KernelFunction
}

/// Builders of the calls of contraction kernels, named by the lowering table.
enum ContractionCall {
    typealias Builder = @Sendable (_ graph: Graph, _ root: ValueID, _ compiled: CompiledKernels) -> KernelCall

    static let matrixProduct: Builder = { graph, root, _ in
        guard case .matrixProduct(let g) = graph.contraction(of: root) else { fatalError("not a matrix product: \(graph[root].op.name)") }
        let operands = graph[root].operands
        return .matrixProduct(g, a: operands[0], b: operands[1], c: root)
    }

    static let scatterAdd: Builder = { graph, root, _ in
        let node = graph[root]
        let (rows, columns) = (node.type.shape[0], node.type.shape[1])
        return .scatterAdd(rows: rows, columns: columns, count: graph[node.operands[0]].type.elementCount,
                           indices: node.operands[0], updates: node.operands[1], result: root)
    }

    static let allReduce: Builder = { graph, root, _ in
        let node = graph[root]
        guard let reduction = node.op.collectiveReduction else { fatalError("not an all_reduce: \(node.op.name)") }
        return .allReduce(reduction, count: node.type.elementCount, operand: node.operands[0], result: root)
    }

    static let convolution: Builder = { graph, root, compiled in
        guard case .convolution(let g, let direction, let batch) = graph.contraction(of: root) else {
            fatalError("not a convolution: \(graph[root].op.name)")
        }
        let operands = graph[root].operands
        let winograd = WinogradConvolution.of(direction, geometry: g).flatMap { compiled.winograd[$0] }
        let filterGradient = WinogradFilterGradient.of(direction, geometry: g).flatMap { compiled.winogradFilterGradients[$0] }
        let product = winograd == nil && filterGradient == nil ? ConvolutionProduct.of(direction, geometry: g) : nil
        return .convolution(ConvolutionCall(
            geometry: g, direction: direction, batch: batch, first: operands[0], second: operands[1], result: root,
            im2col: compiled.im2col[g], col2im: compiled.col2im[g],
            product: product, productFunction: product.flatMap { compiled.products[$0] }, winograd: winograd,
            winogradFilterGradient: filterGradient))
    }
}

extension CompiledKernels {
    /// The calls that run `plan`'s kernels, in order.
    public func calls(for plan: FusionPlan) -> [KernelCall] {
        plan.kernels.enumerated().map { index, kernel in
            let graph = plan.graph
            let root = graph[kernel.root]
            switch Lowering.lowering(for: root.op.kind) {
            case .contraction(let build):
                return build(graph, kernel.root, self)
            case .elementwise, .indexed, .reduction, .declaration, nil:
                guard let function = loops[index] else { fatalError("kernel #\(index) (\(root.op.name)) has no compiled loop") }
                let work = kernel.kind == .reduction ? graph[root.operands[0]].type.elementCount : root.type.elementCount
                return .loop(function, kernel: index, elements: root.type.elementCount, work: work)
            }
        }
    }
}

extension KernelCompiler {
    /// Whether the backend can compute every op of `kind` (the coverage test asks).
    public static func lowers(_ kind: OpKind) -> Bool { Lowering.lowering(for: kind) != nil }
}
