// StepCost: the floating-point work of a graph's contractions, for GFLOP/s figures.

import GraftIR

/// FLOPs of a graph's matrix products and convolutions, a multiply-add counted as 2 and each
/// convolution (or gradient) at its direct-convolution cost, whatever algorithm runs it.
public enum StepCost {
    public static func contractionFLOPs(_ graph: Graph) -> Double {
        var total = 0.0
        for node in graph.nodes {
            switch node.op {
            case .matmul(let transposeA, _):
                let a = graph[node.operands[0]].type.shape
                let k = transposeA ? a[0] : a[1]
                total += 2 * Double(node.type.elementCount) * Double(k)
            case .conv2d:
                let w = graph[node.operands[1]].type.shape
                total += 2 * Double(node.type.elementCount) * Double(w[1] * w[2] * w[3])
            case .conv2dInputGrad:
                let (dy, w) = (graph[node.operands[0]].type, graph[node.operands[1]].type.shape)
                total += 2 * Double(dy.elementCount) * Double(w[1] * w[2] * w[3])
            case .conv2dFilterGrad:
                let dy = graph[node.operands[1]].type
                total += 2 * Double(dy.elementCount) * Double(node.type.shape[1] * node.type.shape[2] * node.type.shape[3])
            default:
                break
            }
        }
        return total
    }
}
