// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter) as an optimizer rewrite.
//
// For each param w with gradient g, at optimizer step t (the scalar input %step, from 1; shared
// with Dropout's random_uniform when the model declares it already):
//   m ← β₁·m + (1 − β₁)·g
//   v ← β₂·v + (1 − β₂)·g²
//   w ← w − lr·( m/(1 − β₁ᵗ) / (sqrt(v/(1 − β₂ᵗ)) + ε) + wd·w )
// Biases and normalisation params skip the weight decay. βᵗ is computed in the graph as
// exp(t·ln β).

import GraftIR
import Foundation

/// AdamW with bias correction; its moments are graph state.
public struct AdamW: Pass, Sendable {
    public let name = "adamw"
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func run(_ graph: inout Graph) throws {
        try graph.checkOptimizable(name)
        let step = try graph.sharedScalarInput("step", for: name)
        try graph.applyOptimizer(name) { u in
            let (m, v) = (u.buffer("adam_m"), u.buffer("adam_v"))
            let g = u.gradient
            let newM = u.op(.add, u.scale(m, by: u.scalar(beta1)), u.scale(g, by: u.scalar(1 - beta1)))
            let newV = u.op(.add, u.scale(v, by: u.scalar(beta2)), u.scale(u.op(.mul, g, g), by: u.scalar(1 - beta2)))
            u.write(m, newM)
            u.write(v, newV)
            // 1 − βᵗ = 1 − exp(t·ln β)
            let one = u.scalar(1)
            let correction1 = u.op(.sub, one, u.op(.exp, u.op(.mul, step, u.scalar(Float(Foundation.log(Double(beta1)))))))
            let correction2 = u.op(.sub, one, u.op(.exp, u.op(.mul, step, u.scalar(Float(Foundation.log(Double(beta2)))))))
            let mHat = u.scale(newM, by: u.op(.div, one, correction1))
            let vHat = u.scale(newV, by: u.op(.div, one, correction2))
            let denominator = u.op(.add, u.op(.sqrt, vHat), u.graph.splat(epsilon, u.graph[vHat].type, at: u.location))
            var direction = u.op(.div, mHat, denominator)
            if weightDecay != 0, !isExcludedFromDecay(u.role) {
                direction = u.op(.add, direction, u.scale(u.param, by: u.scalar(weightDecay)))
            }
            return u.op(.sub, u.param, u.scale(direction, by: u.learningRate))
        }
    }
}
