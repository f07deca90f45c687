// ElementwiseTests: every unary, binary and ternary elementwise op, plus convert, against
// hand-computed values.

import GraftIR
import GraftInterpreter
import Testing

/// One elementwise op applied to fixed operands, with the values it must give.
struct ElementwiseCase: Sendable, CustomTestStringConvertible {
    var op: String
    var operands: [[Float]]
    var expected: [Float]
    var testDescription: String { op }
}

@Suite struct ElementwiseTests {
    static let unaryCases: [ElementwiseCase] = [
        .init(op: "neg", operands: [[-2, -0.5, 0, 0.5, 1, 4]], expected: [2, 0.5, 0, -0.5, -1, -4]),
        .init(op: "abs", operands: [[-2, -0.5, 0, 0.5, 1, 4]], expected: [2, 0.5, 0, 0.5, 1, 4]),
        .init(op: "relu", operands: [[-2, -0.5, 0, 0.5, 1, 4]], expected: [0, 0, 0, 0.5, 1, 4]),
        .init(op: "stop_gradient", operands: [[-2, -0.5, 0, 0.5, 1, 4]], expected: [-2, -0.5, 0, 0.5, 1, 4]),
        .init(op: "exp", operands: [[-1, 0, 1, 2, 0.5, -0.5]],
              expected: [0.36787945, 1, 2.7182817, 7.389056, 1.6487212, 0.60653067]),
        .init(op: "log", operands: [[1, 2, 4, 0.5, 10, 0]],
              expected: [0, 0.6931472, 1.3862944, -0.6931472, 2.3025851, -.infinity]),
        .init(op: "sqrt", operands: [[0, 1, 4, 9, 2, 0.25]], expected: [0, 1, 2, 3, 1.4142135, 0.5]),
        .init(op: "rsqrt", operands: [[1, 4, 0.25, 16, 2, 100]], expected: [1, 0.5, 2, 0.25, 0.70710677, 0.1]),
        .init(op: "tanh", operands: [[-1, 0, 1, 2, 0.5, -0.5]],
              expected: [-0.7615942, 0, 0.7615942, 0.9640276, 0.46211717, -0.46211717]),
        // 1 / (1 + e^-x), worked out in Float64 and rounded; at -100, e^100 overflows Float32
        // to inf, so the result is exactly 0 rather than NaN.
        .init(op: "sigmoid", operands: [[-1, 0, 1, 2, 0.5, -100]],
              expected: [0.26894143, 0.5, 0.7310586, 0.8807971, 0.62245935, 0]),
    ]

    @Test(arguments: unaryCases)
    func unary(_ test: ElementwiseCase) throws {
        let x = tensor([2, 3], test.operands[0])
        let result = try single("%0 = \(test.op)(%x) : f32[2,3]", arguments: [("x", x)], result: "f32[2,3]")
        expectClose(result, test.expected, shape: [2, 3])
    }

    static let binaryCases: [ElementwiseCase] = [
        .init(op: "add", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [3, 0, 0, 4.5, -10, 14]),
        .init(op: "sub", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [-1, -4, 6, 3.5, 0, -2]),
        .init(op: "mul", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [2, -4, -9, 2, 25, 48]),
        .init(op: "div", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [0.5, -1, -1, 8, 1, 0.75]),
        .init(op: "max", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [2, 2, 3, 4, -5, 8]),
        .init(op: "min", operands: [[1, -2, 3, 4, -5, 6], [2, 2, -3, 0.5, -5, 8]], expected: [1, -2, -3, 0.5, -5, 6]),
    ]

    @Test(arguments: binaryCases)
    func binary(_ test: ElementwiseCase) throws {
        let (a, b) = (tensor([2, 3], test.operands[0]), tensor([2, 3], test.operands[1]))
        let result = try single("%0 = \(test.op)(%a, %b) : f32[2,3]", arguments: [("a", a), ("b", b)], result: "f32[2,3]")
        #expect(result == tensor([2, 3], test.expected))
    }

    @Test func divisionByZeroGivesInfinityAndNaN() throws {
        let (a, b) = (tensor([3], [1, -1, 0]), tensor([3], [0, 0, 0]))
        let result = try single("%0 = div(%a, %b) : f32[3]", arguments: [("a", a), ("b", b)], result: "f32[3]")
        #expect(result.scalars[0] == .infinity)
        #expect(result.scalars[1] == -.infinity)
        #expect(result.scalars[2].isNaN)
    }

    @Test func maxAndMinPropagateNaN() throws {
        let (a, b) = (tensor([2], [.nan, 1]), tensor([2], [1, .nan]))
        for op in ["max", "min"] {
            let result = try single("%0 = \(op)(%a, %b) : f32[2]", arguments: [("a", a), ("b", b)], result: "f32[2]")
            #expect(result.scalars.allSatisfy { $0.isNaN }, "\(op)")
        }
    }

    /// `compare(a, b)` with a = [1, 2, 3, 1, 2, 3], b = [2, 2, 2, 3, 1, 3]: one row per direction.
    @Test(arguments: [
        ("eq", [Float]([0, 1, 0, 0, 0, 1])),
        ("ne", [1, 0, 1, 1, 1, 0]),
        ("lt", [1, 0, 0, 1, 0, 0]),
        ("le", [1, 1, 0, 1, 0, 1]),
        ("gt", [0, 0, 1, 0, 1, 0]),
        ("ge", [0, 1, 1, 0, 1, 1]),
    ])
    func compare(direction: String, expected: [Float]) throws {
        for dtype in [DType.f32, .i32] {
            let (a, b) = (tensor(dtype, [2, 3], [1, 2, 3, 1, 2, 3]), tensor(dtype, [2, 3], [2, 2, 2, 3, 1, 3]))
            let result = try single("%0 = compare(%a, %b) {direction = \(direction)} : bool[2,3]",
                                    arguments: [("a", a), ("b", b)], result: "bool[2,3]")
            #expect(result == tensor(.bool, [2, 3], expected), "\(dtype)")
        }
    }

    @Test func compareWithNaNIsFalseExceptNotEqual() throws {
        let (a, b) = (tensor([1], [.nan]), tensor([1], [.nan]))
        for direction in Comparison.allCases {
            let result = try single("%0 = compare(%a, %b) {direction = \(direction.rawValue)} : bool[1]",
                                    arguments: [("a", a), ("b", b)], result: "bool[1]")
            #expect(result.scalars == [direction == .ne ? 1 : 0], "\(direction)")
        }
    }

    @Test func selectTakesFirstWherePredicateIsTrue() throws {
        let p = tensor(.bool, [2, 2], [1, 0, 0, 1])
        let (a, b) = (tensor([2, 2], [1, 2, 3, 4]), tensor([2, 2], [10, 20, 30, 40]))
        let result = try single("%0 = select(%p, %a, %b) : f32[2,2]",
                                arguments: [("p", p), ("a", a), ("b", b)], result: "f32[2,2]")
        #expect(result == tensor([2, 2], [1, 20, 30, 4]))
    }

    @Test func selectOnAComparison() throws {
        // where(x > 0, x, 0.1 * x): a leaky relu built from compare and select.
        let text = """
            graph @leaky(%x: f32[4]) -> (f32[4]) {
              %zero = constant() {value = 0.0} : f32[4]
              %slope = constant() {value = 0.25} : f32[4]
              %positive = compare(%x, %zero) {direction = gt} : bool[4]
              %scaled = mul(%x, %slope) : f32[4]
              %y = select(%positive, %x, %scaled) : f32[4]
              return %y : f32[4]
            }
            """
        let result = try outputs(of: text, inputs: ["x": tensor([4], [-4, -1, 0, 3])])
        #expect(result == [tensor([4], [-1, -0.25, 0, 3])])
    }

    @Test func convertToI32TruncatesTowardZero() throws {
        let x = tensor([2, 4], [-2.7, -0.5, 0, 0.5, 2.7, 3, -3, 1e10])
        let result = try single("%0 = convert(%x) : i32[2,4]", arguments: [("x", x)], result: "i32[2,4]")
        #expect(result == tensor(.i32, [2, 4], [-2, 0, 0, 0, 2, 3, -3, 2_147_483_520]))
    }

    @Test func convertToBoolIsNonzero() throws {
        let x = tensor([5], [-2.5, 0, 0.001, 1, -0.0])
        let result = try single("%0 = convert(%x) : bool[5]", arguments: [("x", x)], result: "bool[5]")
        #expect(result == tensor(.bool, [5], [1, 0, 1, 1, 0]))
    }

    @Test func convertFromBoolAndI32ToF32KeepsValues() throws {
        let b = try single("%0 = convert(%b) : f32[3]", arguments: [("b", tensor(.bool, [3], [1, 0, 1]))], result: "f32[3]")
        #expect(b == tensor([3], [1, 0, 1]))
        let i = try single("%0 = convert(%i) : f32[3]", arguments: [("i", tensor(.i32, [3], [-7, 0, 42]))], result: "f32[3]")
        #expect(i == tensor([3], [-7, 0, 42]))
    }

    @Test func integerArithmetic() throws {
        let (a, b) = (tensor(.i32, [3], [7, -2, 5]), tensor(.i32, [3], [3, 4, -5]))
        let sum = try single("%0 = add(%a, %b) : i32[3]", arguments: [("a", a), ("b", b)], result: "i32[3]")
        #expect(sum == tensor(.i32, [3], [10, 2, 0]))
        let product = try single("%0 = mul(%a, %b) : i32[3]", arguments: [("a", a), ("b", b)], result: "i32[3]")
        #expect(product == tensor(.i32, [3], [21, -8, -25]))
    }
}
