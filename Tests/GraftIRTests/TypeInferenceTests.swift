// TypeInferenceTests: each op's shape rule against shapes worked out by hand.

import Testing
import GraftIR

@Suite("Type inference")
struct TypeInferenceTests {
    @Test("every op example infers the hand-computed type", arguments: opExamples)
    func example(_ example: OpExample) throws {
        let inferred = try TypeInference.resultType(of: example.op, operands: example.operands, declared: example.result)
        #expect(inferred == example.result)
    }

    // MARK: conv2d

    /// (input, filter, stride, padding, output), the output from ⌊(H + 2p − k) / s⌋ + 1.
    static let convShapes: [([Int], [Int], [Int], [Int], [Int])] = [
        ([256, 1, 28, 28], [32, 1, 3, 3], [1, 1], [1, 1], [256, 32, 28, 28]),
        ([256, 1, 28, 28], [32, 1, 3, 3], [2, 2], [1, 1], [256, 32, 14, 14]),
        ([256, 1, 28, 28], [32, 1, 3, 3], [1, 1], [0, 0], [256, 32, 26, 26]),
        ([256, 1, 28, 28], [32, 1, 3, 3], [2, 2], [0, 0], [256, 32, 13, 13]),
        ([4, 3, 32, 32], [16, 3, 1, 1], [1, 1], [0, 0], [4, 16, 32, 32]),
        ([4, 3, 32, 32], [16, 3, 1, 1], [2, 2], [0, 0], [4, 16, 16, 16]),
        ([2, 8, 7, 5], [4, 8, 3, 1], [1, 2], [1, 0], [2, 4, 7, 3]),
        ([1, 1, 3, 3], [1, 1, 3, 3], [1, 1], [0, 0], [1, 1, 1, 1]),
        ([1, 1, 1, 1], [1, 1, 3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
    ]

    @Test("conv2d output shapes", arguments: convShapes)
    func conv2dShape(input: [Int], filter: [Int], stride: [Int], padding: [Int], output: [Int]) throws {
        let type = try TypeInference.resultType(
            of: .conv2d(stride: stride, padding: padding), operands: [TensorType(.f32, input), TensorType(.f32, filter)], declared: nil)
        #expect(type == TensorType(.f32, output))
    }

    @Test("conv2d gradients accept exactly the shapes of the conv2d they differentiate", arguments: convShapes)
    func conv2dGradients(input: [Int], filter: [Int], stride: [Int], padding: [Int], output: [Int]) throws {
        let (x, w, y) = (TensorType(.f32, input), TensorType(.f32, filter), TensorType(.f32, output))
        #expect(try TypeInference.resultType(of: .conv2dInputGrad(stride: stride, padding: padding), operands: [y, w], declared: x) == x)
        #expect(try TypeInference.resultType(of: .conv2dFilterGrad(stride: stride, padding: padding), operands: [x, y], declared: w) == w)

        // A dy one larger in any dimension is not conv2d's output gradient.
        for axis in 0..<4 {
            var shape = output
            shape[axis] += 1
            let wrong = TensorType(.f32, shape)
            let inputGrad = typeError(.conv2dInputGrad(stride: stride, padding: padding), [wrong, w], declared: x)
            #expect(inputGrad == "conv2d_input_grad: \(wrong) is not the output gradient of conv2d(\(x), \(w))")
            let filterGrad = typeError(.conv2dFilterGrad(stride: stride, padding: padding), [x, wrong], declared: w)
            #expect(filterGrad == "conv2d_filter_grad: \(wrong) is not the output gradient of conv2d(\(x), \(w))")
        }
    }

    @Test("conv2d gradients need the result type and matching channels")
    func conv2dGradientErrors() {
        let (x, w, y) = (f32(2, 3, 8, 8), f32(4, 3, 3, 3), f32(2, 4, 8, 8))
        let conv = (stride: [1, 1], padding: [1, 1])
        #expect(typeError(.conv2dInputGrad(stride: conv.stride, padding: conv.padding), [y, w]) == "conv2d_input_grad: the result type must be given")
        #expect(typeError(.conv2dFilterGrad(stride: conv.stride, padding: conv.padding), [x, y]) == "conv2d_filter_grad: the result type must be given")
        #expect(typeError(.conv2dInputGrad(stride: conv.stride, padding: conv.padding), [y, w], declared: f32(2, 5, 8, 8))?
            .hasPrefix("conv2d_input_grad: f32[2,4,8,8] is not the output gradient") == true)
        #expect(typeError(.conv2dFilterGrad(stride: conv.stride, padding: conv.padding), [x, y], declared: f32(4, 2, 3, 3))?
            .hasPrefix("conv2d_filter_grad: f32[2,4,8,8] is not the output gradient") == true)
    }

    @Test("conv2d errors")
    func conv2dErrors() {
        let op = Op.conv2d(stride: [1, 1], padding: [0, 0])
        #expect(typeError(op, [f32(1, 3, 8, 8), f32(4, 2, 3, 3)])
            == "conv2d: input has 3 channels but the filter expects 2 (f32[1,3,8,8] × f32[4,2,3,3])")
        #expect(typeError(op, [f32(1, 1, 2, 2), f32(1, 1, 3, 3)])
            == "conv2d: the 3×3 filter is larger than the padded 2×2 input (f32[1,1,2,2] × f32[1,1,3,3])")
        #expect(typeError(op, [f32(1, 8, 8), f32(1, 1, 3, 3)])?.hasPrefix("conv2d: expects an f32 NCHW input and an f32 OIHW filter") == true)
        #expect(typeError(op, [i32(1, 1, 8, 8), f32(1, 1, 3, 3)])?.hasPrefix("conv2d: expects an f32 NCHW input") == true)
        for bad in [Op.conv2d(stride: [0, 1], padding: [0, 0]), .conv2d(stride: [1], padding: [0, 0]), .conv2d(stride: [1, 1], padding: [-1, 0])] {
            #expect(typeError(bad, [f32(1, 1, 8, 8), f32(1, 1, 3, 3)])
                == "conv2d: stride needs 2 positive entries and padding 2 non-negative entries")
        }
    }

    // MARK: pooling

    @Test("pooling errors: attributes, rank, element type, window size")
    func poolingErrors() {
        func pool(_ window: [Int], _ stride: [Int], _ padding: [Int]) -> Op { .maxPool2d(window: window, stride: stride, padding: padding) }
        let x = f32(2, 3, 8, 8)
        #expect(typeError(pool([2, 2], [0, 1], [0, 0]), [x]) == "max_pool2d: stride [0, 1] must be positive")
        #expect(typeError(pool([2, 0], [1, 1], [0, 0]), [x]) == "max_pool2d: window [2, 0] must be positive")
        #expect(typeError(pool([2], [1, 1], [0, 0]), [x])
            == "max_pool2d: window, stride and padding need 2 entries each ([height, width]), got window [2], stride [1, 1], padding [0, 0]")
        #expect(typeError(pool([3, 3], [1, 1], [2, 1]), [x]) == "max_pool2d: padding [2, 1] must be non-negative and at most half the window [3, 3]")
        #expect(typeError(pool([3, 3], [1, 1], [-1, 0]), [x]) == "max_pool2d: padding [-1, 0] must be non-negative and at most half the window [3, 3]")
        #expect(typeError(pool([2, 2], [2, 2], [0, 0]), [f32(3, 8, 8)]) == "max_pool2d: expects an f32 NCHW input, got f32[3,8,8]")
        #expect(typeError(pool([2, 2], [2, 2], [0, 0]), [i32(1, 3, 8, 8)]) == "max_pool2d: expects an f32 NCHW input, got i32[1,3,8,8]")
        #expect(typeError(pool([5, 2], [1, 1], [1, 1]), [f32(1, 1, 2, 8)])
            == "max_pool2d: the 5×2 window is larger than the 2×8 input padded by [1, 1] (f32[1,1,2,8])")
        #expect(typeError(pool([2, 2], [2, 2], [0, 0]), [x, x]) == "max_pool2d: expects 1 operand, got 2")
    }

    @Test("pooling gradients accept exactly the output gradient of their pooling")
    func poolingGradientErrors() {
        let (x, y) = (f32(2, 3, 8, 8), f32(2, 3, 4, 4))
        let (window, stride, padding) = ([2, 2], [2, 2], [0, 0])
        #expect(typeError(.maxPool2dGrad(window: window, stride: stride, padding: padding), [x, f32(2, 3, 5, 4)])
            == "max_pool2d_grad: f32[2,3,5,4] is not the output gradient of pooling f32[2,3,8,8] (expected f32[2,3,4,4])")
        #expect(typeError(.avgPool2dGrad(window: window, stride: stride, padding: padding), [y]) == "avg_pool2d_grad: the result type must be given")
        #expect(typeError(.avgPool2dGrad(window: window, stride: stride, padding: padding), [y], declared: f32(2, 3, 6, 6))
            == "avg_pool2d_grad: f32[2,3,4,4] is not the output gradient of pooling f32[2,3,6,6] (expected f32[2,3,3,3])")
        #expect(typeError(.avgPool2dGrad(window: window, stride: stride, padding: padding), [y], declared: f32(2, 3, 9, 9)) == nil)
        #expect(typeError(.maxPool2dSelect(window: window, stride: stride, padding: padding), [x, f32(2, 3, 8, 7)])
            == "max_pool2d_select: operand types differ (f32[2,3,8,8] × f32[2,3,8,7])")
    }

    // MARK: matmul

    @Test("matmul transposes", arguments: [
        (false, false, [4, 3], [3, 2]), (true, false, [3, 4], [3, 2]),
        (false, true, [4, 3], [2, 3]), (true, true, [3, 4], [2, 3]),
    ])
    func matmulTransposes(transposeA: Bool, transposeB: Bool, a: [Int], b: [Int]) throws {
        let type = try TypeInference.resultType(
            of: .matmul(transposeA: transposeA, transposeB: transposeB), operands: [TensorType(.f32, a), TensorType(.f32, b)], declared: nil)
        #expect(type == f32(4, 2))
        // The same operands with the other transposes do not line up (3 ≠ 4 or 3 ≠ 2).
        #expect(typeError(.matmul(transposeA: !transposeA, transposeB: transposeB), [TensorType(.f32, a), TensorType(.f32, b)]) != nil)
    }

    @Test("matmul errors")
    func matmulErrors() {
        let plain = Op.matmul(transposeA: false, transposeB: false)
        #expect(typeError(plain, [f32(256, 512), f32(256, 128)]) == "matmul: inner dimensions differ (f32[256,512] × f32[256,128])")
        #expect(typeError(.matmul(transposeA: true, transposeB: false), [f32(256, 512), f32(256, 128)]) == nil)
        #expect(typeError(plain, [f32(2, 3, 4), f32(4, 5)]) == "matmul: expects rank-2 operands (f32[2,3,4] × f32[4,5])")
        #expect(typeError(plain, [i32(2, 3), i32(3, 4)]) == "matmul: expects f32 operands (i32[2,3] × i32[3,4])")
        #expect(typeError(plain, [f32(2, 3)]) == "matmul: expects 2 operands, got 1")
    }

    // MARK: Reductions

    @Test("reductions remove the reduced axes")
    func reductions() throws {
        let x = f32(2, 3, 4, 5)
        for (axes, shape) in [([0], [3, 4, 5]), ([3], [2, 3, 4]), ([1, 3], [2, 4]), ([3, 1], [2, 4]), ([0, 1, 2, 3], []), ([], [2, 3, 4, 5])] {
            for op in [Op.reduceSum(axes: axes), .reduceMean(axes: axes), .reduceMax(axes: axes)] {
                #expect(try TypeInference.resultType(of: op, operands: [x], declared: nil) == TensorType(.f32, shape), "\(op)")
            }
        }
        #expect(try TypeInference.resultType(of: .reduceSum(axes: [0]), operands: [i32(4, 2)], declared: nil) == i32(2))
    }

    @Test("reduction errors")
    func reductionErrors() {
        #expect(typeError(.reduceSum(axes: [2]), [f32(2, 3)]) == "reduce_sum: axes [2] must be distinct axes in 0..<2")
        #expect(typeError(.reduceMax(axes: [-1]), [f32(2, 3)]) == "reduce_max: axes [-1] must be distinct axes in 0..<2")
        #expect(typeError(.reduceMean(axes: [0, 0]), [f32(2, 3)]) == "reduce_mean: axes [0, 0] must be distinct axes in 0..<2")
        #expect(typeError(.reduceMean(axes: [0]), [i32(2, 3)]) == "reduce_mean: expects a floating-point operand, got i32[2,3]")
        #expect(typeError(.reduceSum(axes: [0]), [bool(2)]) == "reduce_sum: expects a numeric operand, got bool[2]")
    }

    // MARK: Broadcasting

    @Test("NumPy broadcast legality", arguments: [
        ([3, 1], [2, 3, 5], true), ([], [4], true), ([], [], true), ([3], [3], true), ([1], [7], true),
        ([3, 1], [3, 4], true), ([1, 4], [3, 4], true), ([4], [3, 4], true), ([1, 1], [5, 6], true),
        ([1], [0], true), ([0], [0], true), ([2], [3], false), ([3], [3, 4], false), ([2, 3], [3], false),
        ([1, 1], [1], false), ([2, 4], [3, 4], false), ([4, 1], [3, 4, 1], true), ([0], [1], false),
    ])
    func broadcastable(shape: [Int], target: [Int], legal: Bool) {
        #expect(TypeInference.isBroadcastable(shape, to: target) == legal)
        let error = typeError(.broadcast, [TensorType(.f32, shape)], declared: TensorType(.f32, target))
        #expect(error == (legal ? nil : "broadcast: cannot broadcast \(TensorType(.f32, shape)) to \(TensorType(.f32, target))"))
    }

    @Test("broadcast keeps the element type")
    func broadcastDType() {
        #expect(typeError(.broadcast, [i32(3)], declared: f32(2, 3)) == "broadcast: cannot broadcast i32[3] to f32[2,3]")
        #expect(typeError(.broadcast, [f32(3)]) == "broadcast: the result type must be given")
    }

    // MARK: Layout

    @Test("slice, pad and concat shapes")
    func layoutShapes() throws {
        func infer(_ op: Op, _ operands: [TensorType]) throws -> TensorType {
            try TypeInference.resultType(of: op, operands: operands, declared: nil)
        }
        #expect(try infer(.slice(start: [0, 2], limit: [4, 5]), [f32(4, 5)]) == f32(4, 3))
        #expect(try infer(.slice(start: [1, 1], limit: [1, 1]), [f32(4, 5)]) == f32(0, 0))
        #expect(try infer(.slice(start: [], limit: []), [f32()]) == f32())
        #expect(try infer(.pad(low: [0, 2], high: [3, 0]), [f32(4, 5)]) == f32(7, 7))
        #expect(try infer(.pad(low: [1], high: [1]), [i32(0)]) == i32(2))
        #expect(try infer(.concat(axis: 0), [f32(1, 3), f32(4, 3)]) == f32(5, 3))
        #expect(try infer(.concat(axis: 2), [f32(2, 3, 1), f32(2, 3, 1), f32(2, 3, 0)]) == f32(2, 3, 2))
    }

    @Test("slice, pad and concat errors")
    func layoutErrors() {
        #expect(typeError(.slice(start: [0, 3], limit: [4, 6]), [f32(4, 5)]) == "slice: range 3..<6 is out of bounds for axis 1 of f32[4,5]")
        #expect(typeError(.slice(start: [3, 0], limit: [2, 5]), [f32(4, 5)]) == "slice: range 3..<2 is out of bounds for axis 0 of f32[4,5]")
        #expect(typeError(.slice(start: [-1, 0], limit: [2, 5]), [f32(4, 5)]) == "slice: range -1..<2 is out of bounds for axis 0 of f32[4,5]")
        #expect(typeError(.slice(start: [0], limit: [2]), [f32(4, 5)]) == "slice: start and limit need 2 entries for f32[4,5]")
        #expect(typeError(.pad(low: [0, -1], high: [0, 0]), [f32(4, 5)]) == "pad: low and high need 2 non-negative entries for f32[4,5]")
        #expect(typeError(.pad(low: [0], high: [0]), [f32(4, 5)]) == "pad: low and high need 2 non-negative entries for f32[4,5]")
        #expect(typeError(.concat(axis: 0), [f32(1, 3), f32(1, 4)]) == "concat: operand shapes differ outside axis 0 (f32[1,3] × f32[1,4])")
        #expect(typeError(.concat(axis: 2), [f32(1, 3), f32(1, 3)]) == "concat: axis 2 is out of range for f32[1,3]")
        #expect(typeError(.concat(axis: 0), [f32(1, 3), i32(1, 3)]) == "concat: operand types differ (f32[1,3] × i32[1,3])")
        #expect(typeError(.concat(axis: 0), [f32(1, 3), f32(3)]) == "concat: operand types differ (f32[1,3] × f32[3])")
        #expect(typeError(.concat(axis: 0), []) == "concat: expects at least one operand")
    }

    // MARK: Indexing and randomness

    @Test("gather, scatter_add and random_uniform errors")
    func indexingErrors() {
        #expect(typeError(.gather, [f32(10, 4), f32(3)]) == "gather: indices must be i32, got f32[3]; convert them with `convert`")
        #expect(typeError(.gather, [f32(10), i32(3)]) == "gather: the table must be an f32 [rows, columns] tensor, got f32[10]")
        #expect(typeError(.gather, [i32(10, 4), i32(3)]) == "gather: the table must be an f32 [rows, columns] tensor, got i32[10,4]")
        #expect(typeError(.scatterAdd, [i32(3), f32(3, 4)]) == "scatter_add: the result type must be given")
        #expect(typeError(.scatterAdd, [f32(3), f32(3, 4)], declared: f32(10, 4)) == "scatter_add: indices must be i32, got f32[3]; convert them with `convert`")
        #expect(typeError(.scatterAdd, [i32(3), f32(3, 5)], declared: f32(10, 4)) == "scatter_add: updates must be f32[3,4] (one row of 4 per index), got f32[3,5]")
        #expect(typeError(.scatterAdd, [i32(3), f32(3, 4)], declared: f32(10, 4, 1)) == "scatter_add: the result must be an f32 [rows, columns] table, got f32[10,4,1]")
        #expect(typeError(.randomUniform(seed: 0), [f32(2)], declared: f32(3)) == "random_uniform: the step must be a numeric scalar, got f32[2]")
        #expect(typeError(.randomUniform(seed: 0), [f32()], declared: i32(3)) == "random_uniform: the result must be f32, got i32[3]")
    }

    @Test("all_reduce keeps its operand's type, which must be floating-point")
    func allReduceTypes() throws {
        #expect(try TypeInference.resultType(of: .allReduce(.mean), operands: [f32(4, 5)], declared: nil) == f32(4, 5))
        #expect(typeError(.allReduce(.sum), [i32(3)]) == "all_reduce: expects a floating-point operand, got i32[3]")
    }

    @Test("transpose permutes the shape", arguments: [
        ([1, 0], [3, 2]), ([0, 1], [2, 3]),
    ])
    func transposeMatrix(permutation: [Int], shape: [Int]) throws {
        #expect(try TypeInference.resultType(of: .transpose(permutation: permutation), operands: [f32(2, 3)], declared: nil)
            == TensorType(.f32, shape))
    }

    @Test("transpose of NCHW to NHWC and its errors")
    func transposeRank4() throws {
        #expect(try TypeInference.resultType(of: .transpose(permutation: [0, 2, 3, 1]), operands: [f32(8, 3, 32, 16)], declared: nil) == f32(8, 32, 16, 3))
        #expect(typeError(.transpose(permutation: [0, 0]), [f32(2, 3)]) == "transpose: permutation [0, 0] is not a permutation of the 2 axes of f32[2,3]")
        #expect(typeError(.transpose(permutation: [1, 2]), [f32(2, 3)]) == "transpose: permutation [1, 2] is not a permutation of the 2 axes of f32[2,3]")
        #expect(typeError(.transpose(permutation: [0]), [f32(2, 3)]) != nil)
    }

    @Test("reshape keeps the element count and type")
    func reshape() {
        #expect(typeError(.reshape, [f32(2, 3)], declared: f32(3, 2)) == nil)
        #expect(typeError(.reshape, [f32(2, 3)], declared: f32(7)) == "reshape: cannot reshape f32[2,3] to f32[7]: element counts or types differ")
        #expect(typeError(.reshape, [f32(2, 3)], declared: i32(6)) != nil)
        #expect(typeError(.reshape, [f32(2, 3)]) == "reshape: the result type must be given")
    }

    // MARK: Elementwise and leaves

    @Test("elementwise rules")
    func elementwise() {
        #expect(typeError(.exp, [i32(2)]) == "exp: expects a floating-point operand, got i32[2]")
        #expect(typeError(.neg, [bool(2)]) == "neg: expects a numeric operand, got bool[2]")
        #expect(typeError(.div, [i32(2), i32(2)]) == "div: expects floating-point operands, got i32[2]")
        #expect(typeError(.add, [bool(2), bool(2)]) == "add: expects numeric operands, got bool[2]")
        #expect(typeError(.add, [f32(2, 3), f32(3, 2)]) == "add: operand shapes differ (f32[2,3] × f32[3,2]); broadcast one of them explicitly")
        #expect(typeError(.add, [f32(2), f32(2), f32(2)]) == "add: expects 2 operands, got 3")
        #expect(typeError(.select, [f32(2), f32(2), f32(2)]) == "select: the predicate must be bool, got f32[2]")
        #expect(typeError(.select, [bool(3), f32(2), f32(2)]) == "select: operand types differ (bool[3] × f32[2] × f32[2])")
        #expect(typeError(.convert, [f32(2)], declared: i32(3)) == "convert: changes the element type only, but f32[2] → i32[3] changes the shape")
        #expect(typeError(.stopGradient, [i32(2)]) == nil)
    }

    @Test("leaves take their type from the declaration")
    func leaves() {
        #expect(typeError(.constant(1), []) == "constant: the result type must be given")
        #expect(typeError(.iota(axis: 2), [], declared: i32(2, 3)) == "iota: axis 2 is out of range for i32[2,3]")
        #expect(typeError(.iota(axis: 0), [], declared: bool(2)) == "iota: result must be numeric, got bool[2]")
        #expect(typeError(.param("w"), [], declared: i32(2)) == "param: must be f32, got i32[2]")
        #expect(typeError(.state("s"), [], declared: i32(2)) == nil)
        #expect(typeError(.input("x"), [], declared: bool(2)) == nil)
    }
}
