// ConvolutionTests: conv2d against hand-computed values (stride, padding, several channels,
// unequal height and width), and its two gradients against hand-computed values and the
// adjoint identity <conv2d(x, w), dy> == <x, input_grad(dy, w)> == <w, filter_grad(x, dy)>.

import GraftIR
import GraftInterpreter
import Testing

/// The sizes of one convolution: input [n, c, h, w], filter [o, c, kh, kw], stride, padding.
struct ConvCase: Sendable, CustomTestStringConvertible {
    var input: [Int]
    var filter: [Int]
    var stride: [Int]
    var padding: [Int]

    var attributes: String { "{padding = \(padding), stride = \(stride)}" }

    var outputShape: [Int] {
        let h = (input[2] + 2 * padding[0] - filter[2]) / stride[0] + 1
        let w = (input[3] + 2 * padding[1] - filter[3]) / stride[1] + 1
        return [input[0], filter[0], h, w]
    }

    var testDescription: String { "x\(input) w\(filter) stride \(stride) padding \(padding)" }

    /// `conv2d(x, w)`, `conv2d_input_grad(dy, w)` and `conv2d_filter_grad(x, dy)` in one graph.
    var graph: String {
        let (x, w, y) = (TensorType(.f32, input), TensorType(.f32, filter), TensorType(.f32, outputShape))
        return """
            graph @conv(%x: \(x), %w: \(w), %dy: \(y)) -> (\(y), \(x), \(w)) {
              %y = conv2d(%x, %w) \(attributes) : \(y)
              %dx = conv2d_input_grad(%dy, %w) \(attributes) : \(x)
              %dw = conv2d_filter_grad(%x, %dy) \(attributes) : \(w)
              return %y, %dx, %dw : \(y), \(x), \(w)
            }
            """
    }
}

@Suite struct ConvolutionTests {
    func conv2d(_ x: HostTensor, _ w: HostTensor, stride: [Int], padding: [Int], result: [Int]) throws -> HostTensor {
        let type = TensorType(.f32, result)
        return try single("%0 = conv2d(%x, %w) {padding = \(padding), stride = \(stride)} : \(type)",
                          arguments: [("x", x), ("w", w)], result: "\(type)")
    }

    @Test func stride1Padding0() throws {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 2], [3, 4]]:
        // y[0, 0] = 1·1 + 2·2 + 4·3 + 5·4 = 37, and so on.
        let x = tensor([1, 1, 3, 3], (1...9).map(Float.init))
        let w = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let y = try conv2d(x, w, stride: [1, 1], padding: [0, 0], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [37, 47, 67, 77]))
    }

    @Test func stride2Padding1() throws {
        // x = 1...16 as 4×4, w = 1...9 as 3×3, zero padding 1, stride 2: the windows start at
        // padded rows/columns -1 and 1. y[0, 0] = 5·1 + 6·2 + 8·5 + 9·6 = 111.
        let x = tensor([1, 1, 4, 4], (1...16).map(Float.init))
        let w = tensor([1, 1, 3, 3], (1...9).map(Float.init))
        let y = try conv2d(x, w, stride: [2, 2], padding: [1, 1], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [111, 217, 363, 573]))
    }

    @Test func unequalHeightAndWidth() throws {
        // x = 1...12 as 3×4, w = [[1, -1, 2], [0, 1, 3]], stride [2, 1], padding [1, 0].
        // y[0, 0] reads padding then row 0: 0·1 + 1·2 + 3·3 = 11.
        let x = tensor([1, 1, 3, 4], (1...12).map(Float.init))
        let w = tensor([1, 1, 2, 3], [1, -1, 2, 0, 1, 3])
        let y = try conv2d(x, w, stride: [2, 1], padding: [1, 0], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [11, 15, 56, 62]))
    }

    @Test func twoInputAndTwoOutputChannels() throws {
        // x: channel 0 = 1...9, channel 1 = 10...18 (3×3 each); w[o, c] are 2×2 filters.
        // y[0, 0, 0, 0] = (1·1 + 0·2 - 1·4 + 2·5) + (0·10 + 1·11 + 1·13 + 0·14) = 7 + 24 = 31.
        let x = tensor([1, 2, 3, 3], (1...18).map(Float.init))
        let w = tensor([2, 2, 2, 2], [1, 0, -1, 2, 0, 1, 1, 0,
                                      -1, 1, 0, 2, 1, 1, 1, 1])
        let y = try conv2d(x, w, stride: [1, 1], padding: [0, 0], result: [1, 2, 2, 2])
        #expect(y == tensor([1, 2, 2, 2], [31, 35, 43, 47, 59, 65, 77, 83]))
    }

    @Test func batchItemsAreIndependent() throws {
        // Batch item 1 is item 0 doubled, so its output is item 0's doubled.
        let item = (1...9).map(Float.init)
        let x = tensor([2, 1, 3, 3], item + item.map { 2 * $0 })
        let w = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let y = try conv2d(x, w, stride: [1, 1], padding: [0, 0], result: [2, 1, 2, 2])
        #expect(y == tensor([2, 1, 2, 2], [37, 47, 67, 77, 74, 94, 134, 154]))
    }

    @Test func inputGradLeavesUnreadRowsAndColumnsZero() throws {
        // 4×4 input, 3×3 filter, stride 2, no padding: (4 - 3) % 2 != 0, so the one output reads
        // rows and columns 0...2 only; dx = dy · w there and 0 in row 3 and column 3.
        let dy = tensor([1, 1, 1, 1], [2])
        let w = tensor([1, 1, 3, 3], (1...9).map(Float.init))
        let dx = try single("%0 = conv2d_input_grad(%dy, %w) {padding = [0, 0], stride = [2, 2]} : f32[1,1,4,4]",
                            arguments: [("dy", dy), ("w", w)], result: "f32[1,1,4,4]")
        #expect(dx == tensor([1, 1, 4, 4], [2, 4, 6, 0,
                                            8, 10, 12, 0,
                                            14, 16, 18, 0,
                                            0, 0, 0, 0]))
    }

    @Test func inputGradOverlappingWindows() throws {
        // 3×3 input, 2×2 filter [[1, 2], [3, 4]], stride 1, dy = [[1, 0], [0, 1]]: the two
        // windows at (0, 0) and (1, 1) each scatter the filter, overlapping at the centre.
        let dy = tensor([1, 1, 2, 2], [1, 0, 0, 1])
        let w = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let dx = try single("%0 = conv2d_input_grad(%dy, %w) {padding = [0, 0], stride = [1, 1]} : f32[1,1,3,3]",
                            arguments: [("dy", dy), ("w", w)], result: "f32[1,1,3,3]")
        #expect(dx == tensor([1, 1, 3, 3], [1, 2, 0,
                                            3, 5, 2,
                                            0, 3, 4]))
    }

    @Test func filterGradSumsWindowsWeightedByDy() throws {
        // x = 1...9 as 3×3, dy = [[1, 0], [0, 1]]: dw[p, q] = x[p, q] + x[p + 1, q + 1].
        let x = tensor([1, 1, 3, 3], (1...9).map(Float.init))
        let dy = tensor([1, 1, 2, 2], [1, 0, 0, 1])
        let dw = try single("%0 = conv2d_filter_grad(%x, %dy) {padding = [0, 0], stride = [1, 1]} : f32[1,1,2,2]",
                            arguments: [("x", x), ("dy", dy)], result: "f32[1,1,2,2]")
        #expect(dw == tensor([1, 1, 2, 2], [6, 8, 12, 14]))
    }

    static let adjointCases: [ConvCase] = [
        ConvCase(input: [1, 1, 5, 5], filter: [1, 1, 3, 3], stride: [1, 1], padding: [0, 0]),
        ConvCase(input: [2, 3, 6, 6], filter: [2, 3, 3, 3], stride: [1, 1], padding: [1, 1]),
        ConvCase(input: [2, 2, 7, 7], filter: [3, 2, 3, 3], stride: [2, 2], padding: [0, 0]),
        ConvCase(input: [2, 2, 6, 6], filter: [3, 2, 3, 3], stride: [2, 2], padding: [0, 0]),  // (6 - 3) % 2 != 0
        ConvCase(input: [2, 2, 8, 8], filter: [3, 2, 3, 3], stride: [2, 2], padding: [1, 1]),  // (8 + 2 - 3) % 2 != 0
        ConvCase(input: [1, 2, 6, 5], filter: [2, 2, 3, 2], stride: [2, 1], padding: [0, 1]),
        ConvCase(input: [1, 1, 4, 4], filter: [1, 1, 1, 1], stride: [3, 3], padding: [0, 0]),
    ]

    @Test(arguments: adjointCases)
    func gradientsAreAdjointsOfConv2d(_ test: ConvCase) throws {
        var random = SeededRandom(seed: 42)
        let (x, w, dy) = (random.tensor(test.input), random.tensor(test.filter), random.tensor(test.outputShape))
        let result = try outputs(of: test.graph, inputs: ["x": x, "w": w, "dy": dy])
        let (y, dx, dw) = (result[0], result[1], result[2])
        let forward = dot(y, dy)
        let scale = absoluteDot(y, dy) + absoluteDot(x, dx) + absoluteDot(w, dw)
        #expect(Swift.abs(dot(x, dx) - forward) <= 1e-6 * scale, "<x, dx> = \(dot(x, dx)), <y, dy> = \(forward)")
        #expect(Swift.abs(dot(w, dw) - forward) <= 1e-6 * scale, "<w, dw> = \(dot(w, dw)), <y, dy> = \(forward)")
    }

    /// Each gradient element is the derivative of <conv2d(x, w), dy> along one basis direction:
    /// dx[k] = <conv2d(e_k, w), dy> and dw[k] = <conv2d(x, e_k), dy>, conv2d being linear in each.
    @Test(arguments: adjointCases)
    func gradientsMatchConv2dElementByElement(_ test: ConvCase) throws {
        var random = SeededRandom(seed: 7)
        let (x, w, dy) = (random.tensor(test.input), random.tensor(test.filter), random.tensor(test.outputShape))
        let result = try outputs(of: test.graph, inputs: ["x": x, "w": w, "dy": dy])
        let (dx, dw) = (result[1], result[2])
        func basis(_ type: TensorType, _ k: Int) -> HostTensor {
            var e = HostTensor(repeating: 0, type)
            e.scalars[k] = 1
            return e
        }
        for k in x.scalars.indices {
            let y = try outputs(of: test.graph, inputs: ["x": basis(x.type, k), "w": w, "dy": dy])[0]
            let expected = Float(dot(y, dy))
            #expect(Swift.abs(dx.scalars[k] - expected) <= 1e-6 * Swift.max(1, Swift.abs(expected)),
                    "dx[\(k)] = \(dx.scalars[k]), expected \(expected)")
        }
        for k in w.scalars.indices {
            let y = try outputs(of: test.graph, inputs: ["x": x, "w": basis(w.type, k), "dy": dy])[0]
            let expected = Float(dot(y, dy))
            #expect(Swift.abs(dw.scalars[k] - expected) <= 1e-6 * Swift.max(1, Swift.abs(expected)),
                    "dw[\(k)] = \(dw.scalars[k]), expected \(expected)")
        }
    }
}
