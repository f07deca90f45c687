// TestSupport: helpers shared by the interpreter tests: running IR text, comparing tensors
// with a stated tolerance, and a seeded random source.

import GraftIR
import GraftInterpreter
import Testing

/// Parses `text`, verifies it, runs it once and returns its outputs.
func outputs(of text: String, inputs: [String: HostTensor] = [:], variables: [String: HostTensor] = [:]) throws -> [HostTensor] {
    let graph = try Parser.parse(text)
    try Verifier.verify(graph)
    return try Interpreter().run(graph, inputs: inputs, variables: variables).outputs
}

/// The single output of a graph that applies `statement` (which defines `%0`) to the inputs
/// `arguments` and returns `%0 : resultType`.
func single(_ statement: String, arguments: [(name: String, value: HostTensor)], result resultType: String) throws -> HostTensor {
    let signature = arguments.map { "%\($0.name): \($0.value.type)" }.joined(separator: ", ")
    let text = """
        graph @test(\(signature)) -> (\(resultType)) {
          \(statement)
          return %0 : \(resultType)
        }
        """
    let inputs = Dictionary(uniqueKeysWithValues: arguments.map { ($0.name, $0.value) })
    return try #require(try outputs(of: text, inputs: inputs).first)
}

/// A tensor of the given dtype and shape.
func tensor(_ dtype: DType, _ shape: [Int], _ scalars: [Float]) -> HostTensor {
    HostTensor(TensorType(dtype, shape), scalars)
}

/// An f32 tensor of the given shape.
func tensor(_ shape: [Int], _ scalars: [Float]) -> HostTensor {
    HostTensor(TensorType(.f32, shape), scalars)
}

/// Expects `actual` to have type `dtype[shape]` and elements within `tolerance` of `expected`
/// (relative to the larger of 1 and the expected magnitude); infinities must match exactly.
func expectClose(_ actual: HostTensor, _ expected: [Float], shape: [Int], dtype: DType = .f32, tolerance: Float = 1e-6,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(actual.type == TensorType(dtype, shape), sourceLocation: sourceLocation)
    #expect(actual.scalars.count == expected.count, "element count", sourceLocation: sourceLocation)
    for (index, (got, want)) in zip(actual.scalars, expected).enumerated() {
        let close = got == want || (got.isNaN && want.isNaN)
            || Swift.abs(got - want) <= tolerance * Swift.max(1, Swift.abs(want))
        #expect(close, "element \(index): got \(got), expected \(want)", sourceLocation: sourceLocation)
    }
}

/// SplitMix64: a small seeded generator, so random tests repeat exactly.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [-1, 1).
    mutating func nextFloat() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }

    /// An f32 tensor of the given shape with uniform elements in [-1, 1).
    mutating func tensor(_ shape: [Int]) -> HostTensor {
        HostTensor(shape: shape, (0..<shape.reduce(1, *)).map { _ in nextFloat() })
    }
}

/// The Float64 inner product of two tensors' elements.
func dot(_ a: HostTensor, _ b: HostTensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// The Float64 sum of the magnitudes of the elementwise products (the scale of `dot`'s rounding error).
func absoluteDot(_ a: HostTensor, _ b: HostTensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + Swift.abs(Double($1.0) * Double($1.1)) }
}
