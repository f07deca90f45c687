// FiniteDifference: central-difference gradients of a graph's scalar loss, computed by running
// the reference interpreter; the oracle the VJP rules are checked against.

import GraftIR
import GraftInterpreter

/// Central-difference estimates of the derivative of a graph's output 0 (an f32[] loss) with
/// respect to every element of every param.
///
/// Each element `x` is moved to `Float(x + h)` and `Float(x − h)`, the loss is evaluated at both,
/// and the difference is divided by the step actually taken (the two moved values subtracted in
/// Float64), so rounding `x ± h` to Float32 does not bias the estimate.
struct CentralDifferences {
    /// The step `h`.
    var step: Float

    /// The estimated gradient of output 0 with respect to each param, by name, one entry per
    /// element in row-major order.
    func gradients(of graph: Graph, inputs: [String: HostTensor],
                   variables: [String: HostTensor]) throws -> [String: [Double]] {
        let interpreter = Interpreter()
        func loss(_ variables: [String: HostTensor]) throws -> Double {
            Double(try interpreter.run(graph, inputs: inputs, variables: variables).outputs[0].scalars[0])
        }
        var gradients: [String: [Double]] = [:]
        for id in graph.params {
            guard case .param(let name) = graph[id].op, let value = variables[name] else { continue }
            var moved = variables
            gradients[name] = try value.scalars.indices.map { index in
                let x = value.scalars[index]
                let (up, down) = (x + step, x - step)
                moved[name]?.scalars[index] = up
                let lossUp = try loss(moved)
                moved[name]?.scalars[index] = down
                let lossDown = try loss(moved)
                moved[name]?.scalars[index] = x
                return (lossUp - lossDown) / (Double(up) - Double(down))
            }
        }
        return gradients
    }
}
