// Shared helpers: random inputs and the comparison of compiled results with the interpreter.

import Testing
import GraftIR
import GraftInterpreter
import GraftRuntime

/// Random values for every input and variable of `graph`, from a seed: floats in
/// [-1, 1] (or [0.5, 2] for `positive`), bools 0/1, i32 in 0..<4.
func randomValues(for graph: Graph, seed: UInt64, positive: Bool = false) -> (inputs: [String: HostTensor], variables: [String: HostTensor]) {
    var generator = SplitMix64(seed: seed)
    var inputs: [String: HostTensor] = [:], variables: [String: HostTensor] = [:]
    for id in graph.nodes.indices {
        guard let name = graph[id].op.declaredName else { continue }
        let type = graph[id].type
        let values: [Float] = (0..<type.elementCount).map { _ in
            let u = generator.nextUnit()
            switch type.dtype {
            case .bool: return u < 0.5 ? 0 : 1
            case .i32: return Float(Int(u * 4))
            case .f32: return Float(positive ? 0.5 + 1.5 * u : 2 * u - 1)
            }
        }
        if case .input = graph[id].op { inputs[name] = HostTensor(type, values) } else { variables[name] = HostTensor(type, values) }
    }
    return (inputs, variables)
}

/// Whether `a` and `b` agree elementwise: |a − b| ≤ tolerance·max(1, |b|), NaN only where both are.
func agree(_ a: HostTensor, _ b: HostTensor, tolerance: Float) -> (Bool, String) {
    guard a.type == b.type else { return (false, "types differ: \(a.type) vs \(b.type)") }
    for i in a.scalars.indices {
        let (x, y) = (a.scalars[i], b.scalars[i])
        if x.isNaN || y.isNaN {
            if x.isNaN != y.isNaN { return (false, "element \(i): \(x) vs \(y)") }
            continue
        }
        if x == y { continue }
        if !(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y))) { return (false, "element \(i): compiled \(x), interpreted \(y)") }
    }
    return (true, "")
}

/// Runs `graph` compiled (arena filled with NaN first) and interpreted on the same values, and
/// expects every output and every assigned variable to agree within `tolerance`.
func expectCompiledMatchesInterpreter(_ graph: Graph, seed: UInt64 = 1, positive: Bool = false, tolerance: Float = 1e-4,
                                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let (inputs, variables) = randomValues(for: graph, seed: seed, positive: positive)
    let expected = try Interpreter().run(graph, inputs: inputs, variables: variables)
    let executable = try Executable(graph)
    executable.poisonsArena = true
    try executable.setVariables(variables)
    let outputs = try executable.run(inputs)
    for (index, (got, want)) in zip(outputs, expected.outputs).enumerated() {
        let (ok, detail) = agree(got, want, tolerance: tolerance)
        #expect(ok, "output \(index) of @\(graph.name): \(detail)", sourceLocation: sourceLocation)
    }
    for assign in graph.assigns {
        guard let got = executable.variable(assign.name), let want = expected.variables[assign.name] else { continue }
        let (ok, detail) = agree(got, want, tolerance: tolerance)
        #expect(ok, "assigned @\(assign.name): \(detail)", sourceLocation: sourceLocation)
    }
}
