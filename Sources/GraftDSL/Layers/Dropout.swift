// Dropout: zeroes a random fraction of its input while training.

import GraftIR

/// Inverted dropout: in training mode each element is kept with probability `1 − rate` and
/// scaled by `1/(1 − rate)`, else zeroed; in inference mode (`isTraining == false`) it is the
/// identity.
///
/// The mask is `random_uniform(%step) {seed} ≥ rate`: a hash of the seed, the scalar input
/// `%step` (the training step, shared with AdamW) and the element's index, so it changes every
/// step and is the same in the interpreter and compiled code. The seed is `seed`, or else one
/// drawn from the builder's seed per Dropout call.
///
/// ```swift
/// let drop = Dropout(rate: 0.1)
/// let y = drop(x)
/// ```
public struct Dropout: Layer {
    public let rate: Float
    public let seed: Int?

    public init(rate: Float, seed: Int? = nil) {
        self.rate = rate
        self.seed = seed
    }

    public func forward(_ x: Tensor) -> Tensor {
        let builder = x.builder
        guard (0..<1).contains(rate) else {
            builder.fail(Diagnostic("dropout: rate must be in [0, 1), got \(rate)", at: builder.operatorLocation))
            return x
        }
        guard builder.isTraining, rate > 0 else { return x }
        let uniform = apply(.randomUniform(seed: seed ?? builder.nextRandomSeed()), builder.stepInput(), type: x.type)
        let kept = compare(uniform, .ge, builder.constant(rate))
        return select(kept, x * (1 / (1 - rate)), builder.constant(0, shape: x.shape))
    }
}
