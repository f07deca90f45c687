// LARS: layer-wise adaptive rate scaling as an optimizer rewrite, exactly as BYOL uses it.
//
// For each param w with gradient g (BYOL's official code, optax-style):
//   u  = g + wd·w                         weight decay added before the trust ratio
//   r  = η·‖w‖/‖u‖  (1 where either norm is 0)
//   m ← μ·m + r·u                         momentum buffer, graph state
//   w ← w − lr·m
// Biases and normalisation params skip both the weight decay and the trust ratio:
//   m ← μ·m + g,  w ← w − lr·m.

import GraftIR

/// LARS with momentum, BYOL's optimizer.
public struct LARS: Pass, Sendable {
    public let name = "lars"
    public var momentum: Float = 0.9
    public var trustCoefficient: Float = 1e-3
    public var weightDecay: Float = 1.5e-6

    public init(momentum: Float = 0.9, trustCoefficient: Float = 1e-3, weightDecay: Float = 1.5e-6) {
        self.momentum = momentum
        self.trustCoefficient = trustCoefficient
        self.weightDecay = weightDecay
    }

    public func run(_ graph: inout Graph) throws {
        try graph.applyOptimizer(name) { u in
            let velocity = u.buffer("momentum")
            var step = u.gradient
            if !isExcludedFromDecay(u.role) {
                let decayed = u.op(.add, u.gradient, u.scale(u.param, by: u.scalar(weightDecay)))
                let paramNorm = u.norm(u.param)
                let updateNorm = u.norm(decayed)
                let zero = u.scalar(0), one = u.scalar(1)
                let ratio = u.op(.div, u.op(.mul, u.scalar(trustCoefficient), paramNorm), updateNorm)
                let ratioWhereUpdateNonZero = u.op(.select, u.op(.compare(.gt), updateNorm, zero), ratio, one)
                let trust = u.op(.select, u.op(.compare(.gt), paramNorm, zero), ratioWhereUpdateNonZero, one)
                step = u.scale(decayed, by: trust)
            }
            let newVelocity = u.op(.add, u.scale(velocity, by: u.scalar(momentum)), step)
            u.write(velocity, newVelocity)
            return u.op(.sub, u.param, u.scale(newVelocity, by: u.learningRate))
        }
    }
}
