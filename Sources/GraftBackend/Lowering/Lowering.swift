// Lowering: how the backend computes each op kind, in one table.
//
// Elementwise ops (and `constant`) are not listed: the loop emitter lowers the scalar meaning
// their definition gives (ScalarLowering.swift), so a new elementwise op needs nothing here.
// Every other kind has an entry: layout ops, `gather`, `iota` and `random_uniform` are computed
// inside loop kernels at a mapped index, reductions are the roots of reduction loops,
// contractions and `scatter_add` become calls of their own (KernelCall.swift), pooling ops are
// roots of loop kernels computing a window at each element (their entries are in
// PoolingLowering.swift, beside their emitters).
// `BackendCoverageTests` checks that no kind is missing.

import GraftIR

/// How the backend computes values of one op kind.
enum Lowering: Sendable {
    /// Inside a loop kernel, from its scalar meaning at the consumer's index.
    case elementwise
    /// Inside a loop kernel, from its operands at a mapped index. `needsDimensions`: the
    /// mapping works on per-dimension indices (so a kernel holding it walks rows).
    case indexed(needsDimensions: Bool, @Sendable (inout LoopEmitter, Node, LoopEmitter.Index) -> String)
    /// The root of a reduction loop.
    case reduction(ReductionLowering)
    /// A call of its own.
    case contraction(ContractionCall.Builder)
    /// Storage the runtime owns (inputs, params, state).
    case declaration

    /// The lowering of `kind`, or nil if the backend has none (a missing table entry).
    static func lowering(for kind: OpKind) -> Lowering? {
        kind.definition.hasScalarMeaning ? .elementwise : table[kind]
    }

    static let table = [OpKind: Lowering](families: [coreTable, PoolingLowering.table])

    /// The declarations, reductions, layout, indexing, contraction and collective entries.
    static let coreTable: [OpKind: Lowering] = [
        .input: .declaration, .param: .declaration, .state: .declaration,
        .iota: .indexed(needsDimensions: true) { e, node, index in
            let indices = e.dimensions(index, shape: node.type.shape)
            return e.assign("uitofp i64 \(indices[node.op.iotaAxis!]) to float")
        },

        // MARK: Reductions
        .reduceSum: .reduction(.sum),
        .reduceMean: .reduction(.mean),
        .reduceMax: .reduction(.max),

        // MARK: Layout
        .reshape: .indexed(needsDimensions: false) { e, node, index in
            e.operand(0, of: node, at: .linear(e.linearIndex(index, shape: node.type.shape)))
        },
        .broadcast: .indexed(needsDimensions: true) { e, node, index in
            let shape = node.type.shape
            let operandShape = e.graph[node.operands[0]].type.shape
            let indices = e.dimensions(index, shape: shape)
            let offset = shape.count - operandShape.count
            let mapped = operandShape.indices.map { operandShape[$0] == 1 ? "0" : indices[$0 + offset] }
            return e.operand(0, of: node, at: .multi(mapped))
        },
        .transpose: .indexed(needsDimensions: true) { e, node, index in
            let shape = node.type.shape
            let indices = e.dimensions(index, shape: shape)
            var mapped = [String](repeating: "0", count: shape.count)
            for (position, axis) in (node.op.permutation ?? []).enumerated() { mapped[axis] = indices[position] }
            return e.operand(0, of: node, at: .multi(mapped))
        },
        .slice: .indexed(needsDimensions: true) { e, node, index in
            guard case .slice(let start, _) = node.op else { fatalError("slice lowering reached \(node.op.name)") }
            let indices = e.dimensions(index, shape: node.type.shape)
            let mapped = indices.indices.map { start[$0] == 0 ? indices[$0] : e.assign("add nuw nsw i64 \(indices[$0]), \(start[$0])") }
            return e.operand(0, of: node, at: .multi(mapped))
        },
        .pad: .indexed(needsDimensions: true) { e, node, index in
            guard case .pad(let low, _) = node.op else { fatalError("pad lowering reached \(node.op.name)") }
            let operandShape = e.graph[node.operands[0]].type.shape
            let indices = e.dimensions(index, shape: node.type.shape)
            let isBool = node.type.dtype == .bool
            var inside = "true"
            var mapped: [String] = []
            for axis in indices.indices {
                let shifted = low[axis] == 0 ? indices[axis] : e.assign("sub i64 \(indices[axis]), \(low[axis])")
                let inRange = e.assign("icmp ult i64 \(shifted), \(operandShape[axis])")   // unsigned: negatives are huge
                inside = inside == "true" ? inRange : e.assign("and i1 \(inside), \(inRange)")
                mapped.append(e.assign("select i1 \(inRange), i64 \(shifted), i64 0"))
            }
            let loaded = e.operand(0, of: node, at: .multi(mapped))
            return e.assign("select i1 \(inside), \(isBool ? "i1" : "float") \(loaded), \(isBool ? "i1 false" : "float 0.0")")
        },
        .concat: .indexed(needsDimensions: true) { e, node, index in
            guard case .concat(let axis) = node.op else { fatalError("concat lowering reached \(node.op.name)") }
            let indices = e.dimensions(index, shape: node.type.shape)
            let type = node.type.dtype == .bool ? "i1" : "float"
            var result: String?
            var offset = 0
            for (position, operandID) in node.operands.enumerated() {
                let width = e.graph[operandID].type.shape[axis]
                let local = offset == 0 ? indices[axis] : e.assign("sub i64 \(indices[axis]), \(offset)")
                let inRange = e.assign("icmp ult i64 \(local), \(width)")
                var mapped = indices
                mapped[axis] = e.assign("select i1 \(inRange), i64 \(local), i64 0")
                let piece = e.operand(position, of: node, at: .multi(mapped))
                result = result.map { e.assign("select i1 \(inRange), \(type) \(piece), \(type) \($0)") } ?? piece
                offset += width
            }
            return result!
        },

        // MARK: Indexing and randomness
        .gather: .indexed(needsDimensions: true) { e, node, index in
            // The table row named by the index at the leading positions, clamped to the table
            // (NaN reads row 0): compiled code does not stop on a bad index, the interpreter does.
            let indices = e.dimensions(index, shape: node.type.shape)
            let rows = e.graph[node.operands[0]].type.shape[0]
            let stored = e.operand(1, of: node, at: .multi(Array(indices.dropLast())))
            let notBelow = e.assign("fcmp oge float \(stored), 0.0")
            let raised = e.assign("select i1 \(notBelow), float \(stored), float 0.0")
            let notAbove = e.assign("fcmp ole float \(raised), \(LoopEmitter.literal(Float(rows - 1)))")
            let clamped = e.assign("select i1 \(notAbove), float \(raised), float \(LoopEmitter.literal(Float(rows - 1)))")
            let row = e.assign("fptosi float \(clamped) to i64")
            return e.operand(0, of: node, at: .multi([row, indices.last!]))
        },
        .scatterAdd: .contraction(ContractionCall.scatterAdd),
        .randomUniform: .indexed(needsDimensions: false) { e, node, index in
            // RandomUniform (GraftIR) in integer instructions: mix(index ⊕ mix(seed ⊕ mix(step + φ))).
            guard case .randomUniform(let seed) = node.op else { fatalError("random_uniform lowering reached \(node.op.name)") }
            e.declarations.insert("declare i32 @llvm.fptosi.sat.i32.f32(float)")
            let stepValue = e.operand(0, of: node, at: .linear("0"))
            let step = e.assign("call i32 @llvm.fptosi.sat.i32.f32(float \(stepValue))")
            let offset = e.assign("add i32 \(step), \(Int32(bitPattern: 0x9E37_79B9))")
            let seedBits = Int32(bitPattern: UInt32(truncatingIfNeeded: seed))
            let key = e.mix32(e.assign("xor i32 \(e.mix32(offset)), \(seedBits)"))
            let position = e.assign("trunc i64 \(e.linearIndex(index, shape: node.type.shape)) to i32")
            let hash = e.mix32(e.assign("xor i32 \(position), \(key)"))
            let top = e.assign("lshr i32 \(hash), 8")
            let float = e.assign("uitofp i32 \(top) to float")
            return e.assign("fmul float \(float), \(LoopEmitter.literal(Float(0x1p-24)))")
        },

        // MARK: Contraction
        .matmul: .contraction(ContractionCall.matrixProduct),
        .conv2d: .contraction(ContractionCall.convolution),
        .conv2dInputGrad: .contraction(ContractionCall.convolution),
        .conv2dFilterGrad: .contraction(ContractionCall.convolution),

        // MARK: Collectives (the runtime's communicator)
        .allReduce: .contraction(ContractionCall.allReduce),
    ]
}

/// How a reduction loop starts, combines an element into its accumulator, and finishes. The
/// accumulator is a `double` (LoopEmitter.emitReduction says why); elements are widened to it.
struct ReductionLowering: Sendable {
    /// The accumulator's starting value, as an LLVM double literal.
    var initial: String
    var combine: @Sendable (inout LoopEmitter, _ accumulator: String, _ element: String) -> String
    /// Divide the result by the number of elements reduced (a mean).
    var divides: Bool

    static let sum = ReductionLowering(initial: "0.0", combine: { e, acc, x in e.assign("fadd reassoc nsz double \(acc), \(x)") }, divides: false)
    static let mean = ReductionLowering(initial: sum.initial, combine: sum.combine, divides: true)
    static let max = ReductionLowering(initial: "0xFFF0000000000000", combine: { e, acc, x in   // from -inf
        let takeX = e.assign("fcmp ugt double \(x), \(acc)")
        return e.assign("select i1 \(takeX), double \(x), double \(acc)")
    }, divides: false)
}
