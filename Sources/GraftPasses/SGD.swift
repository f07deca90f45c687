// SGD: stochastic gradient descent with momentum (optionally Nesterov) as an optimizer rewrite.
//
// PyTorch's formulation, for each param w with gradient g:
//   d  = g + wd·w                 (weight decay; biases and normalisation params excluded)
//   m ← μ·m + d
//   w ← w − lr·(d + μ·m)          with Nesterov,  w ← w − lr·m  without.
// Without momentum (μ = 0) no buffer is kept: w ← w − lr·d.

import GraftIR

/// SGD with optional momentum, Nesterov momentum and weight decay.
public struct SGD: Pass, Sendable {
    public let name = "sgd"
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func run(_ graph: inout Graph) throws {
        try graph.applyOptimizer(name) { u in
            var direction = u.gradient
            if weightDecay != 0, !isExcludedFromDecay(u.role) {
                direction = u.op(.add, direction, u.scale(u.param, by: u.scalar(weightDecay)))
            }
            if momentum != 0 {
                let velocity = u.buffer("momentum")
                let newVelocity = u.op(.add, u.scale(velocity, by: u.scalar(momentum)), direction)
                u.write(velocity, newVelocity)
                direction = nesterov ? u.op(.add, direction, u.scale(newVelocity, by: u.scalar(momentum))) : newVelocity
            }
            return u.op(.sub, u.param, u.scale(direction, by: u.learningRate))
        }
    }
}
