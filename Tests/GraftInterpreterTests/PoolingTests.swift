// PoolingTests: max_pool2d, avg_pool2d and their gradients against hand-computed values:
// non-overlapping and overlapping windows, padding (−inf for max, zeros counted in the average),
// ties (the first maximum of a window takes its gradient, as in PyTorch), NaN, and several
// images and channels.

import GraftIR
import GraftInterpreter
import Testing

@Suite struct PoolingTests {
    /// `op(operands) {window, stride, padding} : result`, interpreted.
    func pool(_ op: String, _ operands: [(name: String, value: HostTensor)], window: [Int], stride: [Int], padding: [Int],
              result: [Int]) throws -> HostTensor {
        let type = TensorType(.f32, result)
        let arguments = operands.map { "%" + $0.name }.joined(separator: ", ")
        return try single("%0 = \(op)(\(arguments)) {padding = \(padding), stride = \(stride), window = \(window)} : \(type)",
                          arguments: operands, result: "\(type)")
    }

    /// 1...16 as one 4×4 image.
    let ramp = tensor([1, 1, 4, 4], (1...16).map(Float.init))

    @Test func maxPool2x2Stride2() throws {
        // Windows {1, 2, 5, 6}, {3, 4, 7, 8}, {9, 10, 13, 14}, {11, 12, 15, 16}.
        let y = try pool("max_pool2d", [("x", ramp)], window: [2, 2], stride: [2, 2], padding: [0, 0], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [6, 8, 14, 16]))
    }

    @Test func maxPoolPadsWithMinusInfinity() throws {
        // x = −(1...16), 3×3 windows, stride 2, padding 1: the windows cover rows/columns
        // {0, 1} and {1, 2, 3}. Zero padding would give 0 for the first window; −inf padding
        // gives its largest element, −1.
        let x = tensor([1, 1, 4, 4], (1...16).map { -Float($0) })
        let y = try pool("max_pool2d", [("x", x)], window: [3, 3], stride: [2, 2], padding: [1, 1], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [-1, -2, -5, -6]))
    }

    @Test func maxPoolOfSeveralImagesAndChannels() throws {
        // Two images of two 2×3 channels, 2×2 windows, stride 1 (overlapping): each plane alone.
        let x = tensor([2, 2, 2, 3], [1, 9, 2, 3, 4, 5,   6, 0, 0, 0, 0, 7,
                                      -1, -2, -3, -4, -5, -6,   8, 8, 1, 8, 1, 1])
        let y = try pool("max_pool2d", [("x", x)], window: [2, 2], stride: [1, 1], padding: [0, 0], result: [2, 2, 1, 2])
        #expect(y == tensor([2, 2, 1, 2], [9, 9, 6, 7, -1, -2, 8, 8]))
    }

    @Test func maxPoolPropagatesNaN() throws {
        let x = tensor([1, 1, 2, 4], [1, .nan, 3, 4, 2, 0, 5, 6])
        let y = try pool("max_pool2d", [("x", x)], window: [2, 2], stride: [2, 2], padding: [0, 0], result: [1, 1, 1, 2])
        #expect(y.scalars[0].isNaN)
        #expect(y.scalars[1] == 6)
    }

    @Test func maxPoolGradientGoesToEachWindowsMaximum() throws {
        // 3×3 windows, stride 2, padding 1 over 1...16: the maxima are 6, 8, 14 and 16.
        let dy = tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let dx = try pool("max_pool2d_grad", [("x", ramp), ("dy", dy)], window: [3, 3], stride: [2, 2], padding: [1, 1],
                          result: [1, 1, 4, 4])
        #expect(dx == tensor([1, 1, 4, 4], [0, 0, 0, 0,  0, 1, 0, 2,  0, 0, 0, 0,  0, 3, 0, 4]))
    }

    @Test func maxPoolGradientOnTiesGoesToTheFirstMaximum() throws {
        // x = [[1, 5, 5], [5, 2, 5]], 2×2 windows, stride 1: both windows tie at 5, and the
        // first 5 of each in row-major order is x[0][1]; it receives both gradients, 10 + 100.
        let x = tensor([1, 1, 2, 3], [1, 5, 5, 5, 2, 5])
        let dy = tensor([1, 1, 1, 2], [10, 100])
        let dx = try pool("max_pool2d_grad", [("x", x), ("dy", dy)], window: [2, 2], stride: [1, 1], padding: [0, 0],
                          result: [1, 1, 2, 3])
        #expect(dx == tensor([1, 1, 2, 3], [0, 110, 0, 0, 0, 0]))
        // The same window all tied at 7 but for a smaller first element: x[0][1] again.
        let tied = tensor([1, 1, 2, 2], [3, 7, 7, 7])
        let one = try pool("max_pool2d_grad", [("x", tied), ("dy", tensor([1, 1, 1, 1], [1]))], window: [2, 2],
                           stride: [2, 2], padding: [0, 0], result: [1, 1, 2, 2])
        #expect(one == tensor([1, 1, 2, 2], [0, 1, 0, 0]))
    }

    @Test func maxPoolSelectTakesTheOtherOperandAtEachFirstMaximum() throws {
        // The tie case above: both windows' first maximum is element 1, so both read v[1] = 20.
        let x = tensor([1, 1, 2, 3], [1, 5, 5, 5, 2, 5])
        let v = tensor([1, 1, 2, 3], [10, 20, 30, 40, 50, 60])
        let y = try pool("max_pool2d_select", [("x", x), ("v", v)], window: [2, 2], stride: [1, 1], padding: [0, 0],
                         result: [1, 1, 1, 2])
        #expect(y == tensor([1, 1, 1, 2], [20, 20]))
    }

    @Test func avgPoolCountsPaddingAsZeros() throws {
        // 3×3 windows, stride 2, padding 1 over 1...16, each sum divided by 9 (padding included):
        // (1+2+5+6)/9, (2+3+4+6+7+8)/9, (5+6+9+10+13+14)/9, (6+7+8+10+11+12+14+15+16)/9.
        let y = try pool("avg_pool2d", [("x", ramp)], window: [3, 3], stride: [2, 2], padding: [1, 1], result: [1, 1, 2, 2])
        expectClose(y, [14 / 9, 30 / 9, 57 / 9, 11], shape: [1, 1, 2, 2])
    }

    @Test func avgPool2x2Stride2() throws {
        let y = try pool("avg_pool2d", [("x", ramp)], window: [2, 2], stride: [2, 2], padding: [0, 0], result: [1, 1, 2, 2])
        #expect(y == tensor([1, 1, 2, 2], [3.5, 5.5, 11.5, 13.5]))
    }

    @Test func avgPoolGradientSpreadsOverEachWindow() throws {
        // dy = [9, 18, 27, 36] over 3×3 windows, stride 2, padding 1: each window gives 1, 2, 3, 4
        // to the elements it covers (rows/columns {0, 1} and {1, 2, 3}); element (1, 1) is in all four.
        let dy = tensor([1, 1, 2, 2], [9, 18, 27, 36])
        let dx = try pool("avg_pool2d_grad", [("dy", dy)], window: [3, 3], stride: [2, 2], padding: [1, 1], result: [1, 1, 4, 4])
        expectClose(dx, [1, 3, 2, 2,  4, 10, 6, 6,  3, 7, 4, 4,  3, 7, 4, 4], shape: [1, 1, 4, 4])
    }

    @Test func avgPoolGradientLeavesUnreadElementsZero() throws {
        // 2×2 windows, stride 2 over 5×5: the last row and column are in no window.
        let dy = tensor([1, 1, 2, 2], [4, 8, 12, 16])
        let dx = try pool("avg_pool2d_grad", [("dy", dy)], window: [2, 2], stride: [2, 2], padding: [0, 0], result: [1, 1, 5, 5])
        #expect(dx == tensor([1, 1, 5, 5], [1, 1, 2, 2, 0,  1, 1, 2, 2, 0,  3, 3, 4, 4, 0,  3, 3, 4, 4, 0,  0, 0, 0, 0, 0]))
    }
}
