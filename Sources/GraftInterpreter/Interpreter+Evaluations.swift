// Interpreter+Evaluations: how the interpreter evaluates each op kind, in one table.
//
// Elementwise ops (and `constant`) are not listed: they evaluate the scalar meaning their
// definition gives (Op.swift), so a new elementwise op needs nothing here. Every other kind
// has an entry, here or, for a family whose loops have a file of their own, in that file
// beside them (the windowed ops: `poolingEvaluations`, Interpreter+Pooling.swift);
// `InterpreterCoverageTests` checks that none is missing.

import GraftIR

/// The values a run binds to the graph's declarations.
struct Bindings {
    var inputs: [String: HostTensor]
    var variables: [String: HostTensor]
}

extension Interpreter {
    /// Evaluates one node from its operands' values.
    typealias Evaluation = @Sendable (Interpreter, Node, [Values], Bindings) throws -> Values

    /// How a node of `kind` is evaluated; nil if the interpreter cannot (a missing table entry).
    static func evaluation(for kind: OpKind) -> Evaluation? {
        kind.definition.hasScalarMeaning ? elementwise : evaluations[kind]
    }

    /// Whether the interpreter can evaluate every op of `kind` (for the coverage test).
    public static func evaluates(_ kind: OpKind) -> Bool { evaluation(for: kind) != nil }

    /// An elementwise op (or `constant`): its scalar meaning at every element.
    static let elementwise: Evaluation = { interpreter, node, operands, _ in
        let types = ElementTypes(operands: operands.map(\.type.dtype), result: node.type.dtype)
        let meaning = node.op.scalarMeaning(types)!
        return Values(node.type, meaning.evaluate(operands.map(\.scalars), count: node.type.elementCount, precision: interpreter.precision))
    }

    /// The kinds that are not elementwise: these, and the windowed family's.
    static let evaluations = [OpKind: Evaluation](families: [coreEvaluations, poolingEvaluations])

    /// The declarations, reductions, layout, indexing, contraction and collective entries.
    static let coreEvaluations: [OpKind: Evaluation] = [
        // MARK: Declarations and leaves
        .input: { i, node, _, bindings in
            try i.bound(bindings.inputs[node.op.declaredName!], to: node, describedAs: "input '%\(node.op.declaredName!)'", passedIn: "inputs")
        },
        .param: { i, node, _, bindings in
            try i.bound(bindings.variables[node.op.declaredName!], to: node, describedAs: "param '@\(node.op.declaredName!)'", passedIn: "variables")
        },
        .state: { i, node, _, bindings in
            try i.bound(bindings.variables[node.op.declaredName!], to: node, describedAs: "state '@\(node.op.declaredName!)'", passedIn: "variables")
        },
        .iota: { i, node, _, _ in
            guard case .iota(let axis) = node.op else { throw mismatch(node) }
            return i.iota(axis: axis, node.type)
        },

        // MARK: Reductions
        .reduceSum: { i, node, x, _ in i.reduceSum(x[0], axes: node.op.reducedAxes!, node.type) },
        .reduceMean: { i, node, x, _ in i.reduceMean(x[0], axes: node.op.reducedAxes!, node.type) },
        .reduceMax: { i, node, x, _ in i.reduceMax(x[0], axes: node.op.reducedAxes!, node.type) },

        // MARK: Layout
        .reshape: { _, node, x, _ in Values(node.type, x[0].scalars) },
        .transpose: { i, node, x, _ in i.transpose(x[0], permutation: node.op.permutation!, node.type) },
        .broadcast: { i, node, x, _ in i.broadcast(x[0], node.type) },
        .slice: { i, node, x, _ in
            guard case .slice(let start, _) = node.op else { throw mismatch(node) }
            return i.slice(x[0], start: start, node.type)
        },
        .concat: { i, node, x, _ in
            guard case .concat(let axis) = node.op else { throw mismatch(node) }
            return i.concat(x, axis: axis, node.type)
        },
        .pad: { i, node, x, _ in
            guard case .pad(let low, _) = node.op else { throw mismatch(node) }
            return i.pad(x[0], low: low, node.type)
        },

        // MARK: Indexing and randomness
        .gather: { i, node, x, _ in try i.gather(x[0], indices: x[1], node) },
        .scatterAdd: { i, node, x, _ in try i.scatterAdd(indices: x[0], updates: x[1], node) },
        // A group of one; `runReplicas` combines the values of a simulated group.
        .allReduce: { i, node, x, _ in try i.allReduce([x[0]], node)[0] },
        .randomUniform: { i, node, x, _ in
            guard case .randomUniform(let seed) = node.op else { throw mismatch(node) }
            return i.randomUniform(seed: seed, step: x[0].scalars[0], node.type)
        },

        // MARK: Contraction
        .matmul: { i, node, x, _ in try i.contract(node, x) },
        .conv2d: { i, node, x, _ in try i.contract(node, x) },
        .conv2dInputGrad: { i, node, x, _ in try i.contract(node, x) },
        .conv2dFilterGrad: { i, node, x, _ in try i.contract(node, x) },
    ]

    /// A matrix product or convolution, by the geometry its op defines.
    func contract(_ node: Node, _ operands: [Values]) throws -> Values {
        switch node.op.contraction(operands: operands.map(\.type), result: node.type) {
        case .matrixProduct(let g):
            return matmul(operands[0], operands[1], g, node.type)
        case .convolution(let g, .forward, let batch):
            return conv2d(operands[0], operands[1], g, batch: batch)
        case .convolution(let g, .inputGradient, let batch):
            return conv2dInputGrad(operands[0], operands[1], g, batch: batch)
        case .convolution(let g, .filterGradient, let batch):
            return conv2dFilterGrad(operands[0], operands[1], g, batch: batch)
        case nil:
            throw Interpreter.mismatch(node)
        }
    }

    /// A table entry reached with a node of another kind: a broken invariant.
    static func mismatch(_ node: Node) -> Diagnostic {
        Diagnostic("the interpreter's entry for \(node.op.kind.rawValue) cannot evaluate \(node.op.name); this is a bug in Graft", at: node.location)
    }

    /// `iota(axis)`: each element is its index along `axis`.
    func iota(axis: Int, _ type: TensorType) -> Values {
        let (extent, stride) = (type.shape[axis], type.strides[axis])
        let scalars = (0..<type.elementCount).map { Double(($0 / stride) % extent) }
        return Values(type, scalars)
    }
}
