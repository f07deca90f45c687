// StepCost: the floating-point work of a graph's contractions, for GFLOP/s figures.

import GraftIR

/// FLOPs of a graph's matrix products and convolutions, a multiply-add counted as 2 and each
/// convolution (or gradient) at its direct-convolution cost, whatever algorithm runs it.
public enum StepCost {
    public static func contractionFLOPs(_ graph: Graph) -> Double {
        graph.nodes.indices.compactMap { graph.contraction(of: $0)?.flops }.reduce(0, +)
    }
}
